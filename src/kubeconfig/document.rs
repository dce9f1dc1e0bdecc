//! A kubeconfig held as a generic value rather than typed structs, so the entries and fields
//! mkc does not know (another tool's extensions, exec plugins, a newer kubectl's fields) are
//! written back exactly as they were read.

use serde_json::{Map, Value};

/// The lists of named entries in a kubeconfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum List {
    Clusters,
    Users,
    Contexts,
}

impl List {
    pub(super) const ALL: [List; 3] = [List::Clusters, List::Users, List::Contexts];

    fn key(self) -> &'static str {
        match self {
            List::Clusters => "clusters",
            List::Users => "users",
            List::Contexts => "contexts",
        }
    }
}

const CURRENT_CONTEXT: &str = "current-context";

/// The top-level mapping of one kubeconfig file.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Document(Map<String, Value>);

impl Document {
    /// Reads `text`. An empty file, or one that is only comments, is an empty kubeconfig, and a
    /// list that is `null` or absent is an empty list, as kubectl reads them. A list that is
    /// not a list is refused: any change to it would have to guess.
    pub(super) fn parse(text: &str) -> Result<Document, String> {
        let value: Value = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        let map = match value {
            Value::Null => Map::new(),
            Value::Object(map) => map,
            _ => return Err("its top level is not a mapping".into()),
        };
        for list in List::ALL {
            if map
                .get(list.key())
                .is_some_and(|v| !v.is_null() && !v.is_array())
            {
                return Err(format!("`{}` is not a list", list.key()));
            }
        }
        Ok(Document(map))
    }

    /// The file's text. Mappings come out with their keys sorted (as kubectl writes them);
    /// long strings (certificates) stay on one line rather than folded.
    pub(super) fn to_yaml(&self) -> Result<String, String> {
        let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
        serde_saphyr::to_string_with_options(&self.0, options).map_err(|e| e.to_string())
    }

    /// The entries of `list`, none when it is absent or `null`.
    pub(super) fn entries(&self, list: List) -> &[Value] {
        self.0
            .get(list.key())
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// Puts `entry` in place of the first entry with its name, or after the last entry when
    /// there is none. Later entries with the same name (which kubectl refuses to load) go, so
    /// the name ends up meaning `entry` alone.
    pub(super) fn upsert(&mut self, list: List, entry: Value) {
        let Some(Value::Array(entries)) = self.0.get_mut(list.key()) else {
            // Absent or `null`: `parse` lets nothing else through.
            self.0
                .insert(list.key().to_owned(), Value::Array(vec![entry]));
            return;
        };
        let name = entry_name(&entry).map(str::to_owned);
        let same = |e: &Value| name.is_some() && entry_name(e) == name.as_deref();
        match entries.iter().position(same) {
            Some(at) => {
                entries[at] = entry;
                let mut index = 0;
                entries.retain(|e| {
                    let keep = index <= at || !same(e);
                    index += 1;
                    keep
                });
            }
            None => entries.push(entry),
        }
    }

    /// Takes out every entry of `list` named `name`; says whether there was one.
    pub(super) fn remove(&mut self, list: List, name: &str) -> bool {
        let Some(entries) = self.0.get_mut(list.key()).and_then(Value::as_array_mut) else {
            return false;
        };
        let before = entries.len();
        entries.retain(|e| entry_name(e) != Some(name));
        entries.len() != before
    }

    pub(super) fn current_context(&self) -> Option<&str> {
        self.0.get(CURRENT_CONTEXT).and_then(Value::as_str)
    }

    /// Sets the current context; `""` is no current context, as kubectl writes it.
    pub(super) fn set_current_context(&mut self, name: &str) {
        self.0
            .insert(CURRENT_CONTEXT.to_owned(), Value::String(name.to_owned()));
    }

    /// Adds the `apiVersion` and `kind` every kubeconfig kubectl writes has, where missing.
    pub(super) fn fill_header(&mut self) {
        for (key, value) in [("apiVersion", "v1"), ("kind", "Config")] {
            self.0
                .entry(key)
                .or_insert_with(|| Value::String(value.to_owned()));
        }
    }
}

fn entry_name(entry: &Value) -> Option<&str> {
    entry.get("name").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(doc: &Document, list: List) -> Vec<&str> {
        doc.entries(list).iter().filter_map(entry_name).collect()
    }

    #[test]
    fn empty_files_and_null_lists_read_as_empty_kubeconfigs() {
        for text in [
            "",
            "\n",
            "# nothing yet\n",
            "---\n",
            "clusters: null\nusers: ~\ncontexts:\n",
        ] {
            let doc = Document::parse(text).unwrap();
            for list in List::ALL {
                assert!(doc.entries(list).is_empty(), "{text:?}");
            }
        }
    }

    #[test]
    fn what_is_not_a_kubeconfig_is_refused() {
        for text in [
            "- a\n- b\n",
            "just text",
            "clusters: {a: 1}\n",
            "users: x\n",
            "a: [\n",
        ] {
            assert!(Document::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn upsert_replaces_in_place_and_appends_what_is_new() {
        let mut doc =
            Document::parse("clusters:\n- name: a\n- name: b\n  old: true\n- name: c\n- name: b\n")
                .unwrap();
        doc.upsert(List::Clusters, json!({"name": "b", "new": true}));
        doc.upsert(List::Clusters, json!({"name": "d"}));
        assert_eq!(names(&doc, List::Clusters), ["a", "b", "c", "d"]);
        assert_eq!(
            doc.entries(List::Clusters)[1],
            json!({"name": "b", "new": true})
        );
        doc.upsert(List::Users, json!({"name": "u"}));
        assert_eq!(names(&doc, List::Users), ["u"]);
    }

    #[test]
    fn remove_takes_every_entry_of_the_name() {
        let mut doc = Document::parse("contexts:\n- name: a\n- name: b\n- name: a\n").unwrap();
        assert!(doc.remove(List::Contexts, "a"));
        assert!(!doc.remove(List::Contexts, "a"));
        assert!(!doc.remove(List::Users, "a"));
        assert_eq!(names(&doc, List::Contexts), ["b"]);
    }

    #[test]
    fn strings_that_look_like_other_types_stay_strings_through_a_round_trip() {
        let long = "QUJD".repeat(500);
        let text = format!(
            "a: 'yes'\nb: 'true'\nc: '1.0'\nd: 'null'\ne: '~'\nf: '0755'\ng: ''\nh: \"x\\ny\"\n\
             i: y\nj: 10\nk: 1.5\nl: true\nm: ~\nn: {{}}\no: []\np: '# not a comment'\n\
             q: 'a: b'\nr: {long}\n"
        );
        let doc = Document::parse(&text).unwrap();
        let yaml = doc.to_yaml().unwrap();
        assert_eq!(Document::parse(&yaml).unwrap(), doc, "{yaml}");
        assert!(yaml.contains(&format!("r: {long}\n")), "{yaml}");
    }
}
