//! Reads each file with saphyr-parser alone (no repairs, no document
//! splitting) and prints the files it rejects: what redline_yaml's repairs
//! are for. `cargo run --release -p redline_yaml --example events -- FILE...`
fn main() {
    for path in std::env::args().skip(1) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut p = saphyr_parser::Parser::new_from_str(&text);
        loop {
            match p.next_event() {
                None => break,
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    println!("{path}: {}", e.info());
                    break;
                }
            }
        }
    }
}
