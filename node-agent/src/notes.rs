//! What the kubelet's events say, word for word as upstream's: about a container's image, its
//! start, its back-offs and its stop. Pure, so each message is a unit test; pod sync records
//! them through [`crate::events::Recorder`], and the prober its own `Unhealthy` events.

use std::time::Duration;

use jiff::Timestamp;

use crate::events::{Note, Subject};
use crate::plan::BackOff;
use crate::resolve::ResolveError;
use crate::runtime::{ImageOutcome, PodKey};
use crate::status::go_duration;

/// The events of a container started at `began`: how its image came to be on the node, then
/// `Created` and `Started`.
pub fn started(
    container: &Subject,
    name: &str,
    image: &str,
    outcome: &ImageOutcome,
    began: Timestamp,
) -> Vec<Note> {
    let mut notes = match outcome {
        ImageOutcome::Present => vec![Note::normal(
            container,
            "Pulled",
            format!("Container image {image:?} already present on machine"),
        )],
        ImageOutcome::Pulled { took } => vec![
            pulling(container, image, began),
            Note::normal(
                container,
                "Pulled",
                format!(
                    "Successfully pulled image {image:?} in {} ({} including waiting)",
                    millis(*took),
                    millis(*took)
                ),
            ),
        ],
        ImageOutcome::PullFailedUsedPresent { message } => vec![
            pulling(container, image, began),
            Note::warning(
                container,
                "Failed",
                format!(
                    "Failed to pull image {image:?}: {message}; using the image already present on the node"
                ),
            ),
        ],
    };
    notes.push(Note::normal(
        container,
        "Created",
        format!("Created container {name}"),
    ));
    notes.push(Note::normal(
        container,
        "Started",
        format!("Started container {name}"),
    ));
    notes
}

/// The events of a pull that failed, begun at `began`; `never` when the pull policy forbade
/// pulling an image the node lacks.
pub fn pull_failed(
    container: &Subject,
    image: &str,
    message: &str,
    never: bool,
    began: Timestamp,
) -> Vec<Note> {
    if never {
        return vec![
            Note::warning(
                container,
                "ErrImageNeverPull",
                format!("Container image {image:?} is not present with pull policy of Never"),
            ),
            Note::warning(container, "Failed", "Error: ErrImageNeverPull".to_owned()),
        ];
    }
    vec![
        pulling(container, image, began),
        Note::warning(
            container,
            "Failed",
            format!("Failed to pull image {image:?}: {message}"),
        ),
        Note::warning(container, "Failed", "Error: ErrImagePull".to_owned()),
    ]
}

/// The events of a container waiting out a back-off in a sync of `pod`.
pub fn backing_off(
    container: &Subject,
    name: &str,
    image: &str,
    back_off: BackOff,
    pod: &PodKey,
) -> Vec<Note> {
    match back_off {
        BackOff::CrashLoop => vec![Note::warning(
            container,
            "BackOff",
            format!("Back-off restarting failed container {name} in pod {pod}"),
        )],
        BackOff::ImagePull => vec![
            Note::normal(
                container,
                "BackOff",
                format!("Back-off pulling image {image:?}"),
            ),
            Note::warning(container, "Failed", "Error: ImagePullBackOff".to_owned()),
        ],
    }
}

/// Why a container could not be given what it takes from the API: upstream's `FailedMount`
/// on the pod for a volume, `Failed` on the container for its environment.
pub fn not_prepared(pod: &Subject, container: &Subject, error: &ResolveError) -> Note {
    match error {
        ResolveError::Mount { .. } => Note::warning(pod, "FailedMount", error.to_string()),
        _ => Note::warning(container, "Failed", format!("Error: {error}")),
    }
}

/// The event of a container stopped because its pod is going, or with `why` (a failed
/// probe).
pub fn killing(container: &Subject, name: &str, why: Option<String>) -> Note {
    let message = why.unwrap_or_else(|| format!("Stopping container {name}"));
    Note::normal(container, "Killing", message)
}

fn pulling(container: &Subject, image: &str, began: Timestamp) -> Note {
    Note::normal(container, "Pulling", format!("Pulling image {image:?}")).at(began)
}

/// A duration to the millisecond, as Go prints it.
fn millis(duration: Duration) -> String {
    go_duration(Duration::from_millis(
        u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Kind;
    use crate::runtime::ContainerRole;
    use k8s_openapi::api::core::v1::Pod;

    fn subject() -> Subject {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u"},
        }))
        .unwrap();
        Subject::pod(&pod, "node-1").container(ContainerRole::Main, "nginx")
    }

    fn said(notes: &[Note]) -> Vec<String> {
        notes
            .iter()
            .map(|n| {
                let kind = match n.kind {
                    Kind::Normal => "Normal",
                    Kind::Warning => "Warning",
                };
                format!("{kind} {}: {}", n.reason, n.message)
            })
            .collect()
    }

    fn began() -> Timestamp {
        "2025-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_start_says_how_the_image_got_there() {
        let present = started(
            &subject(),
            "nginx",
            "nginx:1.27",
            &ImageOutcome::Present,
            began(),
        );
        assert_eq!(
            said(&present),
            [
                "Normal Pulled: Container image \"nginx:1.27\" already present on machine",
                "Normal Created: Created container nginx",
                "Normal Started: Started container nginx",
            ]
        );
        let pulled = ImageOutcome::Pulled {
            took: Duration::from_millis(1_534),
        };
        let notes = started(&subject(), "nginx", "nginx:1.27", &pulled, began());
        assert_eq!(
            said(&notes[..2]),
            [
                "Normal Pulling: Pulling image \"nginx:1.27\"",
                "Normal Pulled: Successfully pulled image \"nginx:1.27\" in 1.534s (1.534s including waiting)",
            ]
        );
        assert_eq!(notes[0].at, began());
        let fallback = ImageOutcome::PullFailedUsedPresent {
            message: "no registry".into(),
        };
        let notes = started(&subject(), "nginx", "nginx:1.27", &fallback, began());
        assert_eq!(
            said(&notes[1..2]),
            [
                "Warning Failed: Failed to pull image \"nginx:1.27\": no registry; using the image already present on the node"
            ]
        );
    }

    #[test]
    fn failed_pulls_and_back_offs_read_as_upstream_words_them() {
        assert_eq!(
            said(&pull_failed(
                &subject(),
                "nginx:9",
                "not found",
                false,
                began()
            )),
            [
                "Normal Pulling: Pulling image \"nginx:9\"",
                "Warning Failed: Failed to pull image \"nginx:9\": not found",
                "Warning Failed: Error: ErrImagePull",
            ]
        );
        assert_eq!(
            said(&pull_failed(&subject(), "nginx:9", "absent", true, began())),
            [
                "Warning ErrImageNeverPull: Container image \"nginx:9\" is not present with pull policy of Never",
                "Warning Failed: Error: ErrImageNeverPull",
            ]
        );
        let pod = PodKey {
            uid: "u".into(),
            namespace: "default".into(),
            name: "web".into(),
        };
        assert_eq!(
            said(&backing_off(
                &subject(),
                "nginx",
                "nginx:9",
                BackOff::CrashLoop,
                &pod
            )),
            ["Warning BackOff: Back-off restarting failed container nginx in pod web_default(u)"]
        );
        assert_eq!(
            said(&backing_off(
                &subject(),
                "nginx",
                "nginx:9",
                BackOff::ImagePull,
                &pod
            )),
            [
                "Normal BackOff: Back-off pulling image \"nginx:9\"",
                "Warning Failed: Error: ImagePullBackOff",
            ]
        );
        assert_eq!(
            said(&[killing(&subject(), "nginx", None)]),
            ["Normal Killing: Stopping container nginx"]
        );
    }

    #[test]
    fn a_missing_volume_source_is_failed_mount_on_the_pod_and_a_missing_key_failed_on_the_container()
     {
        let container = subject();
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u"},
        }))
        .unwrap();
        let pod = Subject::pod(&pod, "node-1");
        let missing = || crate::resolve::ResolveError::NotFound {
            kind: crate::resolve::Kind::Secret,
            name: "creds".into(),
        };
        let mount = crate::resolve::ResolveError::Mount {
            volume: "creds".into(),
            source: Box::new(missing()),
        };
        assert_eq!(
            said(&[not_prepared(&pod, &container, &mount)]),
            [
                "Warning FailedMount: MountVolume.SetUp failed for volume \"creds\" : secret \"creds\" not found"
            ]
        );
        assert_eq!(
            said(&[not_prepared(&pod, &container, &missing())]),
            ["Warning Failed: Error: secret \"creds\" not found"]
        );
    }
}
