//! Renders offending values the way kube-apiserver prints them in error messages: Go's `%v`
//! for numbers, `%q` for strings and `%#v` for maps, slices and structs.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, Time,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// A value that can appear in a field error, rendered as upstream renders it.
pub trait GoValue {
    fn go_value(&self) -> String;
}

impl GoValue for str {
    fn go_value(&self) -> String {
        quote(self)
    }
}

impl GoValue for String {
    fn go_value(&self) -> String {
        quote(self)
    }
}

impl<T: GoValue + ?Sized> GoValue for &T {
    fn go_value(&self) -> String {
        (**self).go_value()
    }
}

/// Upstream prints a nil pointer as `null`.
impl<T: GoValue> GoValue for Option<T> {
    fn go_value(&self) -> String {
        self.as_ref()
            .map_or_else(|| "null".to_string(), GoValue::go_value)
    }
}

macro_rules! plain_go_value {
    ($($t:ty),*) => {$(
        impl GoValue for $t {
            fn go_value(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

plain_go_value!(i32, i64, u32, usize, bool);

/// A value rendered ahead of time, for structs and collections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered(pub String);

impl GoValue for Rendered {
    fn go_value(&self) -> String {
        self.0.clone()
    }
}

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `%#v` of a slice whose items are already rendered, e.g. `[]string{"a", "b"}`.
pub fn slice(type_name: &str, items: Option<impl IntoIterator<Item = String>>) -> Rendered {
    Rendered(match items {
        None => format!("[]{type_name}(nil)"),
        Some(items) => format!(
            "[]{type_name}{{{}}}",
            items.into_iter().collect::<Vec<_>>().join(", ")
        ),
    })
}

/// `%#v` of a `[]string`.
pub fn strings(items: Option<&[String]>) -> Rendered {
    slice("string", items.map(|items| items.iter().map(|s| quote(s))))
}

/// `%#v` of a `map[string]string`; Go prints map keys sorted, as a `BTreeMap` iterates.
pub fn string_map(map: Option<&BTreeMap<String, String>>) -> Rendered {
    Rendered(match map {
        None => "map[string]string(nil)".to_string(),
        Some(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}:{}", quote(k), quote(v)))
                .collect();
            format!("map[string]string{{{}}}", entries.join(", "))
        }
    })
}

/// `%#v` of an `intstr.IntOrString`.
pub fn int_or_string(value: &IntOrString) -> Rendered {
    Rendered(match value {
        IntOrString::Int(i) => format!("intstr.IntOrString{{Type:0, IntVal:{i}, StrVal:\"\"}}"),
        IntOrString::String(s) => format!(
            "intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}",
            quote(s)
        ),
    })
}

/// `%#v` of a `metav1.LabelSelector`.
pub fn label_selector(selector: &LabelSelector) -> Rendered {
    let requirements = selector
        .match_expressions
        .as_ref()
        .map(|exprs| exprs.iter().map(label_selector_requirement));
    Rendered(format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}",
        string_map(selector.match_labels.as_ref()).0,
        slice("v1.LabelSelectorRequirement", requirements).0
    ))
}

fn label_selector_requirement(req: &LabelSelectorRequirement) -> String {
    format!(
        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
        quote(&req.key),
        quote(&req.operator),
        strings(req.values.as_deref()).0
    )
}

/// A timestamp as Go's `time.Time.String()` prints it in UTC.
pub fn time(time: &Time) -> Rendered {
    let ts = time.0;
    let nanos = ts.subsec_nanosecond();
    let fraction = if nanos == 0 {
        String::new()
    } else {
        format!(".{:09}", nanos).trim_end_matches('0').to_string()
    };
    Rendered(format!(
        "{}{fraction} +0000 UTC",
        ts.strftime("%Y-%m-%d %H:%M:%S")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_go() {
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(
            strings(Some(&["a".to_string(), "b".to_string()])).0,
            "[]string{\"a\", \"b\"}"
        );
        assert_eq!(strings(None).0, "[]string(nil)");
        let map = BTreeMap::from([
            ("b".to_string(), "2".to_string()),
            ("a".to_string(), "1".to_string()),
        ]);
        assert_eq!(
            string_map(Some(&map)).0,
            "map[string]string{\"a\":\"1\", \"b\":\"2\"}"
        );
        assert_eq!(
            int_or_string(&IntOrString::String("150%".into())).0,
            "intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}"
        );
        assert_eq!(None::<i32>.go_value(), "null");
        let stamp: jiff::Timestamp = "2024-01-02T03:04:05.5Z".parse().expect("timestamp");
        assert_eq!(time(&Time(stamp)).0, "2024-01-02 03:04:05.5 +0000 UTC");
        let selector = LabelSelector {
            match_labels: Some(BTreeMap::from([("app".to_string(), "web".to_string())])),
            match_expressions: None,
        };
        assert_eq!(
            label_selector(&selector).0,
            "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
        );
    }
}

/// A pointer field of a struct as `%#v` prints it. Go prints a set pointer's address, which
/// differs from one request to the next; a fixed address stands in for it.
pub fn pointer(type_name: &str, set: bool) -> String {
    let address = if set { "0xc000000000" } else { "nil" };
    format!("(*{type_name})({address})")
}
