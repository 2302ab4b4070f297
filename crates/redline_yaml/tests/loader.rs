//! The loader's guarantees: positions, documents, aliases and merges, the
//! nesting limit, the alias budget, and no panic or stack overflow.

use redline_yaml::{ALIAS_BUDGET, MAX_DEPTH, Node, Pos, Value, parse, parse_stream, to_json};

#[test]
fn spans_are_byte_offsets_and_positions_one_based() {
    let text = "a: ünïcode\nname: x\n";
    let s = parse_stream(text);
    assert!(s.error.is_none());
    let (k, v) = s.documents[0].entry("name").unwrap();
    assert_eq!(&text[k.start..k.end], "name");
    assert_eq!(&text[v.start..v.end], "x");
    assert_eq!(k.pos, Pos { line: 2, column: 1 });
    let docs = parse("a: 1\nç: [x, \"y\"]\n---\nb: {c: d}\n").unwrap();
    assert_eq!(docs.len(), 2);
    let items = docs[0].get("ç").unwrap().as_seq().unwrap();
    assert_eq!(items[0].pos, Pos { line: 2, column: 6 });
    assert_eq!(items[1].pos, Pos { line: 2, column: 9 });
    assert_eq!(
        docs[1].path(&["b", "c"]).unwrap().pos,
        Pos { line: 4, column: 8 }
    );
    // A block mapping starts at its first key.
    assert_eq!(docs[0].pos, Pos { line: 1, column: 1 });
}

#[test]
fn multi_document_streams_and_json() {
    let s = parse_stream("---\na: 1\n---\n- x\n---\n---\n# only a comment\n---\nb: [1, {c: d}]\n");
    assert!(s.error.is_none(), "{:?}", s.error);
    assert_eq!(s.documents.len(), 3);
    assert_eq!(
        s.documents[2].path(&["b"]).unwrap().as_seq().unwrap().len(),
        2
    );
    let json = "{\n\t\"kind\": \"Pod\",\n\t\"spec\": {\"containers\": []}\n}\n";
    let s = parse_stream(json);
    assert!(s.error.is_none(), "{:?}", s.error);
    assert_eq!(s.documents[0].get_str("kind"), Some("Pod"));
    // `kind: List` is an ordinary mapping, left to callers.
    let s = parse_stream("{\"kind\": \"List\", \"items\": [{\"kind\": \"Pod\"}]}");
    assert_eq!(s.documents.len(), 1);
    assert_eq!(
        s.documents[0].get("items").unwrap().as_seq().unwrap().len(),
        1
    );
}

#[test]
fn anchors_aliases_duplicates_and_merge_keys() {
    let s = parse_stream(
        "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nlist: [*b, *b]\nearly: {x: 0, <<: *b}\ndup: 1\ndup: 2\n",
    );
    let d = &s.documents[0];
    assert_eq!(d.path(&["use", "x"]).unwrap().as_str(), Some("1"));
    assert_eq!(d.path(&["use", "y"]).unwrap().as_str(), Some("3"));
    assert_eq!(d.get("list").unwrap().as_seq().unwrap().len(), 2);
    // go-yaml applies a merge where it stands: it overrides earlier keys.
    assert_eq!(d.path(&["early", "x"]).unwrap().as_str(), Some("1"));
    assert_eq!(d.get_str("dup"), Some("2"));
    let j = to_json(d).unwrap();
    assert_eq!(j["early"]["x"], 1);
    assert_eq!(j["dup"], 2);
    let e = parse("x: {<<: 5}\n").unwrap_err();
    assert!(e.message.contains("map merge"), "{e}");
}

#[test]
fn errors_have_positions_and_earlier_documents_are_kept() {
    let s = parse_stream("a: 1\n---\nb: [1, 2\n");
    assert_eq!(s.documents.len(), 1);
    let e = s.error.unwrap();
    assert!(e.line >= 3, "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("line {}, column {}: {}", e.line, e.column, e.message)
    );
    let e = parse("a: 1\n--- b: 2\n").unwrap_err();
    assert_eq!((e.line, e.column), (2, 4));
    assert!(e.message.contains("only a comment may follow `---`"), "{e}");
}

fn bomb(levels: u8) -> String {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..levels {
        let prev = (b'a' + i) as char;
        let next = (b'a' + i + 1) as char;
        bomb.push_str(&format!(
            "{next}: &{next} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    bomb
}

#[test]
fn billion_laughs_is_refused() {
    let text = bomb(8);
    assert!(text.len() < 600, "{}", text.len());
    let e = parse(&text).unwrap_err();
    assert!(e.message.contains("billion laughs"), "{e}");
    assert!(e.message.contains(&ALIAS_BUDGET.to_string()), "{e}");
    assert!(e.line > 1, "{e:?}");
    // Small, honest reuse is fine.
    assert!(parse(&bomb(3)).is_ok());
}

#[test]
fn nesting_limit_refuses_deep_documents() {
    let deep = |n: usize| format!("{}x\n", "- ".repeat(n));
    assert!(parse(&deep(MAX_DEPTH)).is_ok());
    let e = parse(&deep(MAX_DEPTH + 1)).unwrap_err();
    assert!(
        e.message
            .contains(&format!("deeper than {MAX_DEPTH} levels")),
        "{e}"
    );
    assert_eq!(e.line, 1);
    // 100 KB of `- - - …` (block) and of `[[[…` (flow).
    let e = parse(&deep(50_000)).unwrap_err();
    assert!(e.message.contains("nested deeper"), "{e}");
    let e = parse(&format!("{}x", "[".repeat(100_000))).unwrap_err();
    assert!(e.message.contains("nested deeper"), "{e}");
    // An alias cannot stack a deep anchor deeper than the limit.
    let half = MAX_DEPTH / 2 + 1;
    let text = format!(
        "a: &a {}x{}\nb: {}*a{}\n",
        "[".repeat(half),
        "]".repeat(half),
        "[".repeat(half),
        "]".repeat(half)
    );
    let e = parse(&text).unwrap_err();
    assert!(e.message.contains("nested deeper"), "{e}");
}

#[test]
fn the_deepest_tree_allowed_is_safe_on_a_small_stack() {
    // Drop, Clone, Debug, PartialEq and to_json recurse over the tree; at
    // the limit they must fit half of a thread's default 2 MiB stack.
    let text = format!("{}x\n", "- ".repeat(MAX_DEPTH));
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let docs = parse(&text).unwrap();
            let copy: Vec<Node> = docs.clone();
            assert_eq!(copy, docs);
            assert!(format!("{copy:?}").len() > MAX_DEPTH);
            assert!(to_json(&copy[0]).is_ok());
            drop(copy);
            drop(docs);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn quoted_scalars_indented_less_than_their_key() {
    let text = "spec:\n    description: \"first line\n  second line\n third\"\n    type: object\n";
    let docs = parse(text).unwrap();
    let d = docs[0].path(&["spec", "description"]).unwrap();
    assert_eq!(d.as_str(), Some("first line second line third"));
    // Offsets still point into the source.
    assert_eq!(&text[d.start..d.start + 6], "\"first");
    let t = docs[0].path(&["spec", "type"]).unwrap();
    assert_eq!(&text[t.start..t.end], "object");
    assert_eq!(
        t.pos,
        Pos {
            line: 5,
            column: 11
        }
    );
    let single = parse("a:\n    b: 'it''s\n  wrapped'\n    c: 1\n").unwrap();
    assert_eq!(
        single[0].path(&["a", "b"]).unwrap().as_str(),
        Some("it's wrapped")
    );
}

#[test]
fn tabs_and_escapes_as_go_yaml_reads_them() {
    let text = "a:\t1\nb: \"x\\'y\"\nc: 2\n";
    let docs = parse(text).unwrap();
    assert_eq!(docs[0].get_str("a"), Some("1"));
    assert_eq!(docs[0].get_str("b"), Some("x'y"));
    let c = docs[0].get("c").unwrap();
    assert_eq!(&text[c.start..c.end], "2");
    assert!(parse("a: \"\\/\"\n").is_err());
    assert!(parse("a:\n\t- b\n").is_err());
}

#[test]
fn scalars_keep_their_text_and_style() {
    let docs = parse("a: yes\nb: \"yes\"\nc: ~\nd: !!str 1\n").unwrap();
    let d = &docs[0];
    assert!(
        matches!(&d.get("a").unwrap().value, Value::Scalar { text, plain: true, .. } if &**text == "yes")
    );
    assert!(matches!(
        &d.get("b").unwrap().value,
        Value::Scalar { plain: false, .. }
    ));
    assert!(d.get("c").unwrap().is_null());
    assert_eq!(d.get("a").unwrap().kind(), "scalar");
    assert_eq!(d.get("c").unwrap().kind(), "null");
    assert_eq!(
        to_json(d).unwrap(),
        serde_json::json!({"a": true, "b": "yes", "c": null, "d": "1"})
    );
}

#[test]
fn arbitrary_input_never_panics() {
    let seeds = [
        "a: [",
        "{\"a\": ",
        "- - - x",
        "? a\n: b",
        "&a *a",
        "a: !!str 1",
        "\u{feff}a: 1",
        "a:\n\t- b",
        "'unterminated",
        "a: |\n  x\n b",
        "[{]}",
        "*x",
        "--- !tag\n",
        "a: \"x\n\ty\"",
        "a:\t\tb:\tc",
        "x: \"\\'\n",
        "[1]]]",
        "é: \"ü\n ö\"",
        "---x\n---\n",
    ];
    for s in seeds {
        let _ = parse_stream(s);
        for cut in 0..s.len() {
            if s.is_char_boundary(cut) {
                let stream = parse_stream(&s[..cut]);
                for d in &stream.documents {
                    let _ = to_json(d);
                    assert!(d.start <= d.end && d.end <= cut, "{s:?} {d:?}");
                }
            }
        }
    }
}
