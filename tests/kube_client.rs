//! The Rust `kube` client against `mkc server` over HTTPS: typed CRUD, a reflector that follows
//! changes and a server restart, and a watcher that meets a 410 Expired and relists.

mod common;

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, Config, ResourceExt};

use common::TestServer;

async fn client(server: &TestServer) -> Client {
    let kubeconfig = Kubeconfig::read_from(&server.kubeconfig).expect("kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("client config");
    Client::try_from(config).expect("client")
}

async fn namespace(client: &Client, name: &str) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
}

fn configmap(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some([("value".to_string(), value.to_string())].into()),
        ..Default::default()
    }
}

/// Waits until `check` holds for the reflector's store.
async fn until(
    reader: &reflector::Store<ConfigMap>,
    what: &str,
    check: impl Fn(&reflector::Store<ConfigMap>) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check(reader) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "reflector never saw {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn value(reader: &reflector::Store<ConfigMap>, name: &str) -> Option<String> {
    reader
        .state()
        .iter()
        .find(|c| c.name_any() == name)
        .and_then(|c| c.data.as_ref()?.get("value").cloned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_crud_round_trips() {
    let server = TestServer::start();
    let client = client(&server).await;
    namespace(&client, "crud").await;
    let api: Api<ConfigMap> = Api::namespaced(client, "crud");
    let created = api
        .create(&PostParams::default(), &configmap("one", "1"))
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some());
    let patched = api
        .patch(
            "one",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"data": {"value": "2"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data.unwrap()["value"], "2");
    let applied = api
        .patch(
            "two",
            &PatchParams::apply("kube-test"),
            &Patch::Apply(configmap("two", "applied")),
        )
        .await
        .unwrap();
    assert_eq!(
        applied.managed_fields()[0].manager.as_deref(),
        Some("kube-test")
    );
    // Every namespace also holds the cluster CA's ConfigMap, as upstream's do.
    let ours = ListParams::default().fields("metadata.name!=kube-root-ca.crt");
    let names: Vec<String> = api
        .list(&ours)
        .await
        .unwrap()
        .items
        .iter()
        .map(|c| c.name_any())
        .collect();
    assert_eq!(names, ["one", "two"]);
    api.delete("one", &DeleteParams::default()).await.unwrap();
    let err = api.get("one").await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(s) if s.code == 404 && s.message == "configmaps \"one\" not found")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reflector_follows_changes_across_a_server_restart() {
    let mut server = TestServer::start();
    let client = client(&server).await;
    namespace(&client, "follow").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "follow");
    api.create(&PostParams::default(), &configmap("before", "1"))
        .await
        .unwrap();

    let (reader, writer) = reflector::store();
    let stream = reflector(writer, watcher(api.clone(), watcher::Config::default()))
        .default_backoff()
        .applied_objects();
    let follower = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            if let Err(err) = event {
                eprintln!("reflector stream error: {err}");
            }
        }
    });
    until(&reader, "the initial list", |r| {
        value(r, "before").as_deref() == Some("1")
    })
    .await;

    api.create(&PostParams::default(), &configmap("added", "a"))
        .await
        .unwrap();
    api.patch(
        "before",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"data": {"value": "2"}})),
    )
    .await
    .unwrap();
    until(&reader, "an addition and an update", |r| {
        value(r, "added").is_some() && value(r, "before").as_deref() == Some("2")
    })
    .await;
    api.delete("added", &DeleteParams::default()).await.unwrap();
    until(&reader, "a deletion", |r| value(r, "added").is_none()).await;

    server.restart();
    let api: Api<ConfigMap> = Api::namespaced(client, "follow");
    let mut created = None;
    for _ in 0..100 {
        match api
            .create(&PostParams::default(), &configmap("after", "restart"))
            .await
        {
            Ok(object) => {
                created = Some(object);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert!(created.is_some(), "the restarted server took the write");
    until(&reader, "a change after the restart", |r| {
        value(r, "after").as_deref() == Some("restart")
    })
    .await;
    follower.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_meets_410_expired_relists_and_resumes() {
    let server = TestServer::start_with(&["--compaction-interval-seconds", "1"]);
    let client = client(&server).await;
    namespace(&client, "quiet").await;
    namespace(&client, "busy").await;
    let quiet: Api<ConfigMap> = Api::namespaced(client.clone(), "quiet");
    let busy: Api<ConfigMap> = Api::namespaced(client.clone(), "busy");
    quiet
        .create(&PostParams::default(), &configmap("first", "1"))
        .await
        .unwrap();

    // Short watches make the watcher resume from its last revision often; the quiet namespace
    // gives it no newer one while the busy one moves the store past it and compaction follows.
    let config = watcher::Config::default().timeout(1);
    let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
    let watch = tokio::spawn(async move {
        let mut stream = std::pin::pin!(watcher(quiet.clone(), config).default_backoff());
        while let Some(event) = stream.next().await {
            if events.send(event.map_err(|e| e.to_string())).is_err() {
                return;
            }
        }
    });
    let mut inits = 0;
    let mut busy_writes = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while inits < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the watcher never relisted"
        );
        busy.create(
            &PostParams::default(),
            &configmap(&format!("b{busy_writes}"), "x"),
        )
        .await
        .unwrap();
        busy_writes += 1;
        while let Ok(event) = received.try_recv() {
            if matches!(event, Ok(watcher::Event::Init)) {
                inits += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The watch goes on after the relist: a new object still arrives.
    let quiet: Api<ConfigMap> = Api::namespaced(client, "quiet");
    quiet
        .create(&PostParams::default(), &configmap("second", "2"))
        .await
        .unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(event) = received.recv().await {
            if let Ok(watcher::Event::Apply(cm)) = event {
                if cm.name_any() == "second" {
                    return true;
                }
            }
        }
        false
    })
    .await;
    assert_eq!(seen, Ok(true));
    watch.abort();
}
