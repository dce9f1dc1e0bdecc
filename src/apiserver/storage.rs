//! Kubernetes objects over the byte store: keys from resource, namespace and name, JSON values
//! without their resourceVersion (the store's revision is the resourceVersion, set on the way
//! out), and store outcomes mapped to upstream's errors for the resource at hand. Objects go
//! in and come out in the version of the resource they are read through: every version of a
//! resource shares its keys, and its strategy converts between the version and the stored form.

use bytes::Bytes;
use serde_json::Value;

use super::ApiError;
use crate::registry::Resource;
use crate::store::{Entry, Event, EventStream, Revision, Store, StoreError};

/// Objects of every resource, in one store.
#[derive(Clone)]
pub struct Objects {
    store: Store,
}

/// One page of objects and where the listing stands.
pub struct ObjectPage {
    pub items: Vec<Value>,
    pub revision: Revision,
    /// The key of the last item when more follow.
    pub last_key: Option<String>,
}

/// How many times a read-modify-write retries when another writer got there first.
const UPDATE_ATTEMPTS: usize = 16;

impl Objects {
    pub fn new(store: Store) -> Objects {
        Objects { store }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The object, or NotFound.
    pub async fn get(&self, r: &Resource, ns: Option<&str>, name: &str) -> Result<Value, ApiError> {
        self.find(r, ns, name)
            .await?
            .ok_or_else(|| ApiError::not_found(r.qualified(), name))
    }

    /// The object, if it exists.
    pub async fn find(
        &self,
        r: &Resource,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, ApiError> {
        match self.store.get(&r.key(ns, name)).await? {
            Some(entry) => Ok(Some(decode_entry(r, &entry)?)),
            None => Ok(None),
        }
    }

    /// A page of objects of `r` (in `ns`, or everywhere), after the key `start_after`.
    pub async fn list(
        &self,
        r: &Resource,
        ns: Option<&str>,
        start_after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<ObjectPage, ApiError> {
        let page = self.store.list(&r.prefix(ns), start_after, limit).await?;
        let items = page
            .entries
            .iter()
            .map(|entry| decode_entry(r, entry))
            .collect::<Result<Vec<_>, _>>()?;
        let last_key = page
            .more
            .then(|| page.entries.last().map(|e| e.key.clone()))
            .flatten();
        Ok(ObjectPage {
            items,
            revision: page.revision,
            last_key,
        })
    }

    /// Stores a new object and returns it with its resourceVersion.
    pub async fn create(&self, r: &Resource, mut object: Value) -> Result<Value, ApiError> {
        let (ns, name) = identity(&object);
        let value = encode(r, &mut object)?;
        let revision = self
            .store
            .create(&r.key(ns.as_deref(), &name), value)
            .await
            .map_err(|err| match err {
                StoreError::AlreadyExists(_) => ApiError::AlreadyExists {
                    resource: r.qualified(),
                    name: name.clone(),
                },
                other => other.into(),
            })?;
        set_resource_version(&mut object, revision);
        Ok(object)
    }

    /// Replaces an object. With `expected`, only if it is still at that revision (else a
    /// Conflict); the object's own resourceVersion is ignored here.
    pub async fn update(
        &self,
        r: &Resource,
        mut object: Value,
        expected: Option<Revision>,
    ) -> Result<Value, ApiError> {
        let (ns, name) = identity(&object);
        let value = encode(r, &mut object)?;
        let revision = self
            .store
            .update(&r.key(ns.as_deref(), &name), value, expected)
            .await
            .map_err(|err| map_write_error(err, r, &name))?;
        set_resource_version(&mut object, revision);
        Ok(object)
    }

    /// Removes an object and returns its last state, at the deletion's resourceVersion.
    pub async fn delete(
        &self,
        r: &Resource,
        ns: Option<&str>,
        name: &str,
        expected: Option<Revision>,
    ) -> Result<Value, ApiError> {
        let (revision, last) = self
            .store
            .delete(&r.key(ns, name), expected)
            .await
            .map_err(|err| map_write_error(err, r, name))?;
        let mut object = view(r, decode(&last)?);
        set_resource_version(&mut object, revision);
        Ok(object)
    }

    /// Reads the object, lets `change` compute its next state, and writes it if it changed,
    /// retrying from a fresh read when another writer raced in between. `change` returns
    /// `None` to leave the object as it is.
    pub async fn update_with<F>(
        &self,
        r: &Resource,
        ns: Option<&str>,
        name: &str,
        mut change: F,
    ) -> Result<Value, ApiError>
    where
        F: FnMut(Value) -> Result<Option<Value>, ApiError>,
    {
        for _ in 0..UPDATE_ATTEMPTS {
            let current = self.get(r, ns, name).await?;
            let revision = resource_version(&current)?;
            let Some(next) = change(current.clone())? else {
                return Ok(current);
            };
            match self.update(r, next, Some(revision)).await {
                Err(ApiError::Conflict { .. }) => continue,
                other => return other,
            }
        }
        Err(ApiError::stale(r.qualified(), name))
    }

    /// The changes to objects of `r` (in `ns`, or everywhere) after `revision`.
    pub async fn watch(
        &self,
        r: &Resource,
        ns: Option<&str>,
        revision: Revision,
    ) -> Result<EventStream, ApiError> {
        Ok(self.store.watch(&r.prefix(ns), revision).await?)
    }
}

fn map_write_error(err: StoreError, r: &Resource, name: &str) -> ApiError {
    match err {
        StoreError::NotFound(_) => ApiError::not_found(r.qualified(), name),
        StoreError::Conflict { .. } => ApiError::stale(r.qualified(), name),
        other => other.into(),
    }
}

fn identity(object: &Value) -> (Option<String>, String) {
    let meta = &object["metadata"];
    let ns = meta["namespace"].as_str().map(str::to_owned);
    let name = meta["name"].as_str().unwrap_or_default().to_owned();
    (ns, name)
}

/// The bytes stored for an object of `r`: its stored form without the resourceVersion, which
/// the store's revision supplies.
fn encode(r: &Resource, object: &mut Value) -> Result<Bytes, ApiError> {
    if let Some(meta) = object["metadata"].as_object_mut() {
        meta.remove("resourceVersion");
    }
    serde_json::to_vec(&r.strategy.to_storage(object.clone()))
        .map(Bytes::from)
        .map_err(|e| ApiError::Internal(format!("encoding object: {e}")))
}

/// A stored object as `r`'s version shows it. Versions that convert with nothing but their
/// name (custom resources' `None` strategy) differ only in the apiVersion.
pub fn view(r: &Resource, stored: Value) -> Value {
    let mut object = r.strategy.from_storage(stored);
    // Every read passes here: the apiVersion is compared without building it.
    let current = object["apiVersion"].as_str().unwrap_or_default();
    let same = match r.group {
        "" => current == r.version,
        group => {
            current
                .strip_prefix(group)
                .and_then(|rest| rest.strip_prefix('/'))
                == Some(r.version)
        }
    };
    if !same {
        object["apiVersion"] = Value::String(r.api_version());
    }
    object
}

fn decode(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::Internal(format!("stored object is not JSON: {e}")))
}

fn decode_entry(r: &Resource, entry: &Entry) -> Result<Value, ApiError> {
    let mut object = view(r, decode(&entry.value)?);
    set_resource_version(&mut object, entry.revision);
    Ok(object)
}

/// Decodes the object of `r` an event carries, at the event's revision.
pub fn decode_event(r: &Resource, event: &Event) -> Result<Value, ApiError> {
    let mut object = view(r, decode(&event.value)?);
    set_resource_version(&mut object, event.revision);
    Ok(object)
}

/// Decodes the object of `r` as it was before an event, when the store knows it.
pub fn decode_previous(r: &Resource, event: &Event) -> Option<Value> {
    let prev = event.prev.as_ref()?;
    decode(prev).ok().map(|object| view(r, object))
}

pub fn set_resource_version(object: &mut Value, revision: Revision) {
    if let Some(meta) = object["metadata"].as_object_mut() {
        meta.insert(
            "resourceVersion".into(),
            Value::String(revision.to_string()),
        );
    }
}

/// The resourceVersion of an object read from the store.
pub fn resource_version(object: &Value) -> Result<Revision, ApiError> {
    object["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|rv| rv.parse().ok())
        .ok_or_else(|| ApiError::Internal("object without a resourceVersion".into()))
}
