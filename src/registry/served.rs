//! What one server serves at one moment: the built-in resources and those its
//! CustomResourceDefinitions add, looked up the same way. Requests, discovery and OpenAPI read
//! it; the built-in table alone serves code that only ever names built-in kinds.

use std::cmp::Ordering;

use super::{RESOURCES, Resource};

/// The built-in resources and the custom ones of one moment.
#[derive(Debug, Default)]
pub struct Served {
    /// Custom resources by group, then by version priority (the preferred version first).
    custom: Vec<&'static Resource>,
}

/// The built-in resources alone, for code that only ever names built-in kinds.
pub static BUILT_IN: Served = Served { custom: Vec::new() };

impl Served {
    pub fn new(mut custom: Vec<&'static Resource>) -> Served {
        custom.sort_by(|a, b| {
            a.group
                .cmp(b.group)
                .then_with(|| version_priority(a.version, b.version))
                .then_with(|| a.plural.cmp(b.plural))
        });
        Served { custom }
    }

    /// Every resource, built-in ones first in discovery order.
    pub fn all(&self) -> impl Iterator<Item = &'static Resource> + '_ {
        RESOURCES.iter().copied().chain(self.custom.iter().copied())
    }

    /// The custom resources alone.
    pub fn custom(&self) -> &[&'static Resource] {
        &self.custom
    }

    /// The resources whose objects are stored (every one but the reviews), each once: a
    /// resource served in several versions by the first of them.
    pub fn stored(&self) -> impl Iterator<Item = &'static Resource> + '_ {
        let mut seen = std::collections::HashSet::new();
        self.all()
            .filter(move |r| !r.create_only && seen.insert((r.group, r.plural)))
    }

    /// Looks a resource up by group, version and plural name.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
        self.all()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// Looks a resource up by its kind's apiVersion and kind.
    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<&'static Resource> {
        self.all()
            .find(|r| r.kind == kind && r.api_version() == api_version)
    }

    /// The group/versions served, in the order discovery lists them (core first).
    pub fn group_versions(&self) -> Vec<(&'static str, &'static str)> {
        let mut seen = Vec::new();
        for r in self.all() {
            if !seen.contains(&(r.group, r.version)) {
                seen.push((r.group, r.version));
            }
        }
        seen
    }

    /// The resources of one group/version.
    pub fn in_group_version<'a>(
        &'a self,
        group: &'a str,
        version: &'a str,
    ) -> impl Iterator<Item = &'static Resource> + 'a {
        self.all()
            .filter(move |r| r.group == group && r.version == version)
    }
}

/// Orders versions as upstream's discovery does (`version.CompareKubeAwareVersionStrings`):
/// GA before beta before alpha, higher numbers first within each, and any version that does
/// not look like `v<major>[alpha|beta<minor>]` last, alphabetically.
pub fn version_priority(a: &str, b: &str) -> Ordering {
    match (parse_version(a), parse_version(b)) {
        (Some(a), Some(b)) => b.cmp(&a),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// `(stability, major, minor)`, larger meaning preferred: GA 2, beta 1, alpha 0.
fn parse_version(version: &str) -> Option<(u8, u64, u64)> {
    let rest = version.strip_prefix('v')?;
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let major: u64 = rest[..digits].parse().ok().filter(|m| *m > 0)?;
    let (stability, minor) = match &rest[digits..] {
        "" => return Some((2, major, 0)),
        tail => {
            let (stability, minor) = if let Some(minor) = tail.strip_prefix("beta") {
                (1, minor)
            } else {
                (0, tail.strip_prefix("alpha")?)
            };
            if minor.is_empty() || !minor.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (stability, minor.parse().ok()?)
        }
    };
    Some((stability, major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_as_upstream_discovery_sorts_them() {
        let mut versions = vec![
            "v1alpha1",
            "foo1",
            "v11alpha2",
            "v1",
            "v10beta3",
            "v2",
            "v10",
            "v12alpha1",
            "v3beta1",
            "v11beta2",
            "foo10",
        ];
        versions.sort_by(|a, b| version_priority(a, b));
        assert_eq!(
            versions,
            [
                "v10",
                "v2",
                "v1",
                "v11beta2",
                "v10beta3",
                "v3beta1",
                "v12alpha1",
                "v11alpha2",
                "v1alpha1",
                "foo1",
                "foo10"
            ]
        );
    }
}
