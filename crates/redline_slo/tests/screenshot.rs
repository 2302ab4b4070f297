//! Renders a report in headless Chromium (Debian's `chromium`) and checks
//! the screenshot is a real, non-blank page. Skipped, and says so, when
//! Chromium is not installed. The PNG is kept in Cargo's test temp dir.

use redline_slo::events::Event;
use redline_slo::report::{BurnPeriod, SloReport, render_html};
use std::process::Command;

fn find(bin: &str) -> Option<String> {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|d| std::path::Path::new(d).join(bin))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

fn synthetic_report() -> SloReport {
    let start = 1_767_225_600;
    let end = start + 30 * 86_400;
    let step = 300;
    let incident = |t: i64| (start + 20 * 86_400..start + 20 * 86_400 + 2_400).contains(&t);
    let ratio: Vec<(i64, f64)> = (start..=end)
        .step_by(step)
        .map(|t| (t, if incident(t) { 0.08 } else { 0.0002 }))
        .collect();
    let mut spent = 0.0;
    let remaining = ratio
        .iter()
        .map(|(t, r)| {
            spent += r / 0.001 / 8_640.0 * 100.0;
            (*t, 100.0 - spent)
        })
        .collect();
    let burns = vec![
        (
            "1h".to_string(),
            ratio.iter().map(|(t, r)| (*t, r / 0.001)).collect(),
        ),
        (
            "6h".to_string(),
            ratio.iter().map(|(t, r)| (*t, r / 0.001 / 3.0)).collect(),
        ),
    ];
    let deploy = Event {
        time: start + 20 * 86_400 - 600,
        service: Some("checkout".into()),
        commit: "abc1234".into(),
        description: "switch payment provider".into(),
    };
    SloReport {
        slo_title: "checkout/requests-availability".into(),
        objective: 99.9,
        window: "30d".into(),
        start,
        end,
        ratio,
        remaining,
        burns,
        thresholds: vec![
            ("page 14.4x (1h)".into(), 14.4),
            ("page 6x (6h)".into(), 6.0),
        ],
        periods: vec![BurnPeriod {
            start: start + 20 * 86_400,
            end: start + 20 * 86_400 + 2_400,
            peak_burn: 80.0,
            budget_spent_pct: 7.4,
            suspects: vec![deploy.clone()],
            trace: None,
        }],
        events: vec![deploy],
        data_from: start,
        note: None,
        period_end: None,
        time_zone: None,
    }
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(png[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(png[20..24].try_into().ok()?);
    Some((w, h))
}

#[test]
fn report_renders_in_headless_chromium() {
    let Some(chromium) = find("chromium").or_else(|| find("chromium-browser")) else {
        eprintln!(
            "SKIPPED report_renders_in_headless_chromium: `chromium` is not installed (apt-get install -y chromium)"
        );
        return;
    };
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let html = dir.join("slo-report.html");
    let png = dir.join("slo-report.png");
    let _ = std::fs::remove_file(&png);
    std::fs::write(&html, render_html(&[synthetic_report()], 1_769_817_600)).unwrap();
    let profile = dir.join("chromium-profile");
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--window-size=1050,1400")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("cannot run chromium");
    let bytes = std::fs::read(&png).unwrap_or_else(|_| {
        panic!(
            "chromium wrote no screenshot: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        png_size(&bytes),
        Some((1050, 1400)),
        "not the PNG asked for"
    );
    // A blank page compresses to a few kilobytes; three charts, a table and
    // text do not.
    assert!(
        bytes.len() > 30_000,
        "the screenshot looks blank ({} bytes): {}",
        bytes.len(),
        png.display()
    );
    eprintln!("screenshot: {}", png.display());
}
