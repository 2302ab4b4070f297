//! Loads YAML/JSON files and prints, per file, the documents and the error:
//! `cargo run --release -p redline_yaml --example load -- FILE...` (with
//! `/usr/bin/time -v` it measures the loader's peak memory).

fn main() {
    for path in std::env::args().skip(1) {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let text = match redline_yaml::decode(&bytes) {
            Ok(t) => t,
            Err(e) => {
                println!("{path}: {e}");
                continue;
            }
        };
        let stream = redline_yaml::parse_stream(&text);
        match &stream.error {
            None => println!("{path}: {} documents", stream.documents.len()),
            Some(e) => println!("{path}: {} documents, then {e}", stream.documents.len()),
        }
    }
}
