//! Cluster-wide settings kinds: PriorityClasses (scheduling.k8s.io/v1), RuntimeClasses
//! (node.k8s.io/v1), and API Priority and Fairness' FlowSchemas and
//! PriorityLevelConfigurations (flowcontrol.apiserver.k8s.io/v1), which are served so clients
//! that look for them find them; this server does not queue requests by them.

use k8s_openapi::api::flowcontrol::v1::{FlowSchema, PriorityLevelConfiguration};
use k8s_openapi::api::node::v1::RuntimeClass;
use k8s_openapi::api::scheduling::v1::PriorityClass;

use super::strategy::kind;
use super::{Resource, Subresource, Typed};
use crate::{defaults, validation};

kind!(
    PriorityClasses: PriorityClass,
    validate: validation::priority_class,
    defaults: defaults::priority_class,
);
kind!(RuntimeClasses: RuntimeClass, validate: validation::runtime_class);
kind!(
    FlowSchemas: FlowSchema,
    validate: validation::flow_schema,
    prepare_create: empty_flow_schema_status,
);
kind!(
    PriorityLevelConfigurations: PriorityLevelConfiguration,
    validate: validation::priority_level_configuration,
    prepare_create: empty_priority_level_status,
);

fn empty_flow_schema_status(schema: &mut FlowSchema) {
    schema.status = Some(Default::default());
}

fn empty_priority_level_status(level: &mut PriorityLevelConfiguration) {
    level.status = Some(Default::default());
}

pub static PRIORITY_CLASSES: Resource = Resource {
    group: "scheduling.k8s.io",
    version: "v1",
    kind: "PriorityClass",
    plural: "priorityclasses",
    singular: "priorityclass",
    short_names: &["pc"],
    categories: &[],
    namespaced: false,
    subresources: &[],
    field_labels: &[],
    generation: false,
    returns_deleted_object: false,
    create_only: false,
    strategy: &Typed::<PriorityClasses>::NEW,
};

pub static RUNTIME_CLASSES: Resource = Resource {
    group: "node.k8s.io",
    kind: "RuntimeClass",
    plural: "runtimeclasses",
    singular: "runtimeclass",
    short_names: &[],
    strategy: &Typed::<RuntimeClasses>::NEW,
    ..PRIORITY_CLASSES
};

pub static FLOW_SCHEMAS: Resource = Resource {
    group: "flowcontrol.apiserver.k8s.io",
    kind: "FlowSchema",
    plural: "flowschemas",
    singular: "flowschema",
    short_names: &[],
    subresources: &[Subresource::Status],
    generation: true,
    strategy: &Typed::<FlowSchemas>::NEW,
    ..PRIORITY_CLASSES
};

pub static PRIORITY_LEVEL_CONFIGURATIONS: Resource = Resource {
    kind: "PriorityLevelConfiguration",
    plural: "prioritylevelconfigurations",
    singular: "prioritylevelconfiguration",
    strategy: &Typed::<PriorityLevelConfigurations>::NEW,
    ..FLOW_SCHEMAS
};
