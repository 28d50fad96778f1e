//! Escaping and number formatting shared by the page and the charts; the figures themselves
//! are formatted by `stackwise_results::fmt`, as in every other output.
//!
//! Every string that came from a result (stack names, errors, versions, a host's CPU model)
//! passes through [`esc`] before it reaches the page; the embedded data goes through
//! [`json_for_script`] so no value can close its `<script>` block.

// Figures read as every other output prints them (see stackwise_results::fmt's rounding rule).
pub(crate) use stackwise_results::fmt::{bytes, ms, rate, thousands};

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
