fn main() {
    let t = std::env::args().nth(1).unwrap();
    fn walk(n: &redline_yaml::Node, t: &str, d: usize) {
        println!(
            "{}{}..{} {:?} {:?}",
            " ".repeat(d),
            n.start,
            n.end,
            &t[n.start..n.end],
            n.pos
        );
        if let Some(s) = n.as_seq() {
            for i in s {
                walk(i, t, d + 1)
            }
        }
        if let Some(m) = n.as_map() {
            for (k, v) in m {
                walk(k, t, d + 1);
                walk(v, t, d + 1)
            }
        }
    }
    for d in redline_yaml::parse(&t).unwrap() {
        walk(&d, &t, 0)
    }
}
