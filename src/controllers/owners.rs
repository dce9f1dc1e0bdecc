//! The pod cache indexed by controlling owner (and orphans by namespace), as upstream's
//! controller-uid indexer: a ReplicaSet finds its pods without scanning every pod there is.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;

use super::informers::Informer;

/// Where a pod is filed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Slot {
    Owned(String),
    Orphan(String),
}

impl Slot {
    fn of(pod: &Pod) -> Slot {
        match pod
            .owner_references()
            .iter()
            .find(|o| o.controller == Some(true))
        {
            Some(owner) => Slot::Owned(owner.uid.clone()),
            None => Slot::Orphan(pod.namespace().unwrap_or_default()),
        }
    }
}

#[derive(Default)]
struct Index {
    slots: HashMap<Slot, HashMap<ObjectRef<Pod>, Arc<Pod>>>,
    filed: HashMap<ObjectRef<Pod>, Slot>,
}

impl Index {
    /// Files the pod as the cache now has it, or forgets it if the cache no longer does.
    fn refresh(&mut self, key: ObjectRef<Pod>, current: Option<Arc<Pod>>) {
        if let Some(slot) = self.filed.remove(&key)
            && let Some(pods) = self.slots.get_mut(&slot)
        {
            pods.remove(&key);
            if pods.is_empty() {
                self.slots.remove(&slot);
            }
        }
        if let Some(pod) = current {
            let slot = Slot::of(&pod);
            self.slots
                .entry(slot.clone())
                .or_default()
                .insert(key.clone(), pod);
            self.filed.insert(key, slot);
        }
    }

    fn pods(&self, slot: &Slot) -> Vec<Arc<Pod>> {
        self.slots
            .get(slot)
            .map(|pods| pods.values().cloned().collect())
            .unwrap_or_default()
    }
}

/// A shared handle to the index.
#[derive(Clone, Default)]
pub struct PodsByOwner(Arc<RwLock<Index>>);

impl PodsByOwner {
    /// An index the pod informer keeps current before it tells anyone of a change.
    pub fn new(pods: &mut Informer<Pod>) -> PodsByOwner {
        let index = PodsByOwner::default();
        let kept = index.clone();
        pods.index(move |key, current| {
            if let Ok(mut index) = kept.0.write() {
                index.refresh(key.clone(), current.cloned());
            }
        });
        index
    }

    /// The cached pods whose controller has uid `owner`.
    pub fn owned_by(&self, owner: &str) -> Vec<Arc<Pod>> {
        self.0
            .read()
            .map(|i| i.pods(&Slot::Owned(owner.to_owned())))
            .unwrap_or_default()
    }

    /// The cached pods in `namespace` that no controller owns.
    pub fn orphans_in(&self, namespace: &str) -> Vec<Arc<Pod>> {
        self.0
            .read()
            .map(|i| i.pods(&Slot::Orphan(namespace.to_owned())))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, owner: Option<&str>) -> Arc<Pod> {
        let mut value = json!({"metadata": {"name": name, "namespace": "d"}});
        if let Some(owner) = owner {
            value["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner, "uid": owner, "controller": true}]);
        }
        Arc::new(serde_json::from_value(value).unwrap())
    }

    #[test]
    fn pods_move_between_owners_and_leave_when_the_cache_drops_them() {
        let mut index = Index::default();
        let a = pod("a", Some("rs-1"));
        let key = ObjectRef::from_obj(a.as_ref());
        index.refresh(key.clone(), Some(a));
        assert_eq!(index.pods(&Slot::Owned("rs-1".into())).len(), 1);
        index.refresh(key.clone(), Some(pod("a", None)));
        assert!(index.pods(&Slot::Owned("rs-1".into())).is_empty());
        assert_eq!(index.pods(&Slot::Orphan("d".into())).len(), 1);
        index.refresh(key, None);
        assert!(index.pods(&Slot::Orphan("d".into())).is_empty());
        assert!(index.slots.is_empty() && index.filed.is_empty());
    }
}
