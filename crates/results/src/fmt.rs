//! Text formatting every output shares, so a figure reads the same in the terminal table, the
//! history, the advice, the claims, `stackwise load`'s summary and the HTML report: one rule
//! each for milliseconds ([`ms`]), request rates ([`rate`]) and sizes ([`bytes`]), and the
//! banners every output of a quick or unfinished run opens with.
//!
//! # The rounding rule
//!
//! A measured figure is printed to about three significant digits, since the trials' spread is
//! wider than that: two decimals below 10, one below 100, whole numbers from 100 (with thousands
//! separators from 1,000). The band is chosen by the value *as printed*: 9.996 rounds to 10.00
//! at two decimals, so it is printed as `10.0`; 99.96 as `100`; 999.6 as `1,000`. Halves round
//! away from zero at the printed precision, as Rust's formatting does.

use std::fmt::Write;

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Rows as columns two spaces apart, each as wide as its widest cell, every line starting with
/// `indent`, trailing spaces trimmed.
pub fn aligned(rows: &[Vec<String>], indent: &str) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::from(indent);
        for (cell, width) in row.iter().zip(&widths) {
            let _ = write!(line, "{cell:<width$}  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Said by every output of a quick run, at its top.
pub const QUICK_BANNER: &str = "QUICK RUN: shortened trials; not for decisions";

/// Said by the human outputs of a run that stopped before measuring everything it planned.
pub const UNFINISHED_BANNER: &str = "UNFINISHED RUN: not every planned scenario was measured";

/// Milliseconds to about three significant digits (see [the rule](self#the-rounding-rule)):
/// `0.42`, `9.99`, `10.0`, `41.3`, `100`, `1,235`; `?` for a value that is not a number.
pub fn ms(x: f64) -> String {
    if !x.is_finite() {
        "?".into()
    } else if x >= 999.5 {
        thousands(x.round() as u64)
    } else if x >= 99.95 {
        format!("{x:.0}")
    } else if x >= 9.995 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// Requests per second (or any rate or count that may have a fraction) to about three
/// significant digits: `1.23`, `77.2`, `4,956`. Like [`ms`], but whole from 99.5 rather than
/// 99.95, since a fraction of a request in a rate that large is noise; negative values keep
/// their sign, `0` stays `0`, and `?` stands for a value that is not a number.
pub fn rate(x: f64) -> String {
    if !x.is_finite() {
        return "?".into();
    }
    if x.abs() >= 99.5 {
        let n = x.round();
        let sign = if n < 0.0 { "-" } else { "" };
        format!("{sign}{}", thousands(n.abs() as u64))
    } else if x.abs() >= 9.95 {
        format!("{x:.1}")
    } else if x == 0.0 {
        "0".into()
    } else {
        format!("{x:.2}")
    }
}

/// A setting as written: `100`, `0.75`.
pub fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// Seconds as written in settings: `1 s`, `0.75 s`.
pub fn seconds(s: f64) -> String {
    format!("{} s", number(s))
}

/// Bytes in binary units, about three significant digits.
pub fn bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = b as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit < UNITS.len() - 1 {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{b} B")
    } else if x >= 99.95 {
        format!("{x:.0} {}", UNITS[unit])
    } else {
        format!("{x:.1} {}", UNITS[unit])
    }
}

pub(crate) fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// Where a part of the run was pinned: `CPU 1`, `CPUs 0-3,6`.
pub fn cpus(list: &[u64]) -> String {
    match list.len() {
        0 => "any CPU".into(),
        1 => format!("CPU {}", cpu_list(list)),
        _ => format!("CPUs {}", cpu_list(list)),
    }
}

/// CPU numbers with runs joined: `0-3,6`.
fn cpu_list(cpus: &[u64]) -> String {
    if cpus.is_empty() {
        return String::new();
    }
    let mut sorted = cpus.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut start = sorted[0];
    let mut prev = start;
    for &c in &sorted[1..] {
        if c != prev + 1 {
            parts.push(span(start, prev));
            start = c;
        }
        prev = c;
    }
    parts.push(span(start, prev));
    parts.join(",")
}

fn span(a: u64, b: u64) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}-{b}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn milliseconds_keep_three_significant_digits_across_each_boundary() {
        let cases = [
            (0.0, "0.00"),
            (0.004, "0.00"),
            (0.005, "0.01"),
            (0.4249, "0.42"),
            (9.994, "9.99"),
            (9.995, "10.0"),
            (9.996, "10.0"),
            (26.13, "26.1"),
            (99.94, "99.9"),
            (99.95, "100"),
            (99.96, "100"),
            (100.0, "100"),
            (999.4, "999"),
            (999.5, "1,000"),
            (2146.3, "2,146"),
            (1_234_567.0, "1,234,567"),
            (f64::NAN, "?"),
            (f64::INFINITY, "?"),
        ];
        for (x, want) in cases {
            assert_eq!(ms(x), want, "{x}");
        }
    }

    #[test]
    fn rates_are_whole_from_99_5() {
        let cases = [
            (0.0, "0"),
            (1.234, "1.23"),
            (9.94, "9.94"),
            (9.96, "10.0"),
            (77.24, "77.2"),
            (99.4, "99.4"),
            (99.5, "100"),
            (1855.6, "1,856"),
            (4955.9, "4,956"),
            (-1234.4, "-1,234"),
            (-12.34, "-12.3"),
            (f64::NAN, "?"),
        ];
        for (x, want) in cases {
            assert_eq!(rate(x), want, "{x}");
        }
    }

    #[test]
    fn bytes_use_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1024), "1.0 KiB");
        assert_eq!(bytes(70_254_592), "67.0 MiB");
        assert_eq!(bytes(130_719_744), "125 MiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn columns_align_on_their_widest_cell() {
        let rows = vec![
            vec!["stack".to_string(), "req/s".to_string()],
            vec!["node-http".to_string(), "3".to_string()],
        ];
        assert_eq!(aligned(&rows, "  "), "  stack      req/s\n  node-http  3\n");
    }

    #[test]
    fn cpu_lists_join_runs() {
        assert_eq!(cpu_list(&[3, 0, 1, 2, 6]), "0-3,6");
        assert_eq!(cpu_list(&[1]), "1");
        assert_eq!(cpus(&[]), "any CPU");
        assert_eq!(cpus(&[1]), "CPU 1");
        assert_eq!(cpus(&[0, 1, 2]), "CPUs 0-2");
    }
}
