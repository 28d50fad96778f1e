//! Escaping and number formatting shared by the page and the charts.
//!
//! Every string that came from a result (stack names, errors, versions, a host's CPU model)
//! passes through [`esc`] before it reaches the page; the embedded data goes through
//! [`json_for_script`] so no value can close its `<script>` block.

pub(crate) use stackwise_results::fmt::thousands;

/// `s` safe as HTML text and as a quoted attribute value.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON text safe inside `<script type="application/json">`: `<`, `>` and `&` written as
/// `\u` escapes, which JSON parsers read back as the same characters, so neither `</script>`
/// nor `<!--` can appear in the block.
pub(crate) fn json_for_script(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// A rate or count: whole numbers with separators from 100 up, else with the decimals that
/// keep three significant digits.
pub(crate) fn rate(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v.abs() >= 100.0 {
        thousands(v.round() as u64)
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Milliseconds with the precision they deserve: `0.42`, `3.1`, `120`.
pub(crate) fn ms(v: f64) -> String {
    if v >= 100.0 {
        thousands(v.round() as u64)
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Bytes in binary units: `67.2 MiB`.
pub(crate) fn bytes(b: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < units.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", units[unit])
    }
}

/// A compact axis label: `2k`, `1.5k`, `250`, `0.5`.
pub(crate) fn axis(v: f64) -> String {
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if v.abs() >= 1e6 {
        format!("{}M", trim(format!("{:.2}", v / 1e6)))
    } else if v.abs() >= 1e3 {
        format!("{}k", trim(format!("{:.2}", v / 1e3)))
    } else {
        trim(format!("{v:.3}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn json_for_script_cannot_close_the_block_and_reads_back_the_same() {
        let v = serde_json::json!({"name": "</script><!-- & >"});
        let s = json_for_script(&v);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).unwrap(), v);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(rate(4955.9), "4,956");
        assert_eq!(rate(77.24), "77.2");
        assert_eq!(rate(1.234), "1.23");
        assert_eq!(ms(0.4249), "0.42");
        assert_eq!(ms(41.26), "41.3");
        assert_eq!(bytes(70_254_592), "67.0 MiB");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(axis(2000.0), "2k");
        assert_eq!(axis(2500.0), "2.5k");
        assert_eq!(axis(0.5), "0.5");
        assert_eq!(axis(250.0), "250");
    }
}
