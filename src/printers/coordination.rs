//! The leases table of coordination.k8s.io: who holds each lease.

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use serde_json::Value;

use super::common::{self, AGE, NAME};
use super::{Column, Printer};

pub(super) static LEASES: Printer = Printer {
    columns: &COLUMNS,
    row,
};

const COLUMNS: [Column; 3] = [
    NAME,
    Column::string(
        "Holder",
        "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.",
    ),
    AGE,
];

fn row(object: &Value, now: Timestamp) -> Option<Vec<Value>> {
    let lease: Lease = common::parse(object)?;
    let holder = lease
        .spec
        .and_then(|spec| spec.holder_identity)
        .unwrap_or_default();
    Some(vec![
        common::name(&lease.metadata),
        holder.into(),
        common::age(&lease.metadata, now),
    ])
}
