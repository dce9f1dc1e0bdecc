//! Processes in a pod's containers through the engine: `exec` runs a command with its streams
//! attached (as `docker exec`), `attach` joins the container's own process (as `docker
//! attach`). The engine multiplexes stdout and stderr on one connection unless there is a
//! terminal; the exit code is asked of the engine once the output has ended.

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecOptions, StartExecResults};
use bollard::query_parameters::{AttachContainerOptionsBuilder, ResizeContainerTTYOptionsBuilder};
use bytes::Bytes;
use futures::channel::oneshot;
use futures::{FutureExt, Stream, StreamExt};

use crate::runtime::{ProcessIo, ProcessRequest, RuntimeError, Stdio};

fn engine(what: &'static str) -> impl Fn(bollard::errors::Error) -> RuntimeError {
    move |error| RuntimeError::Engine(format!("{what}: {error}"))
}

/// Runs `request.command` in the container `id`.
pub async fn exec(
    docker: &Docker,
    id: &str,
    request: ProcessRequest<'_>,
) -> Result<ProcessIo, RuntimeError> {
    let created = docker
        .create_exec(
            id,
            CreateExecOptions {
                attach_stdin: Some(request.stdin),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                tty: Some(request.tty),
                cmd: Some(request.command.to_vec()),
                ..Default::default()
            },
        )
        .await
        .map_err(engine("creating the exec"))?;
    let started = docker
        .start_exec(
            &created.id,
            Some(StartExecOptions {
                detach: false,
                tty: request.tty,
                output_capacity: None,
            }),
        )
        .await
        .map_err(engine("starting the exec"))?;
    let StartExecResults::Attached { output, input } = started else {
        return Err(RuntimeError::Engine("the engine detached the exec".into()));
    };
    let (output, ended) = signal_end(output);
    let exec_id = created.id.clone();
    let inspector = docker.clone();
    let exit = async move {
        let _ = ended.await;
        let inspected = inspector
            .inspect_exec(&exec_id)
            .await
            .map_err(engine("reading the exec's exit code"))?;
        Ok(inspected.exit_code.unwrap_or(0))
    };
    let resizer = docker.clone();
    let resize = move |width: u16, height: u16| {
        let (resizer, exec_id) = (resizer.clone(), created.id.clone());
        tokio::spawn(async move {
            let _ = resizer
                .resize_exec(&exec_id, ResizeExecOptions { height, width })
                .await;
        });
    };
    Ok(ProcessIo {
        stdin: request.stdin.then_some(input),
        output,
        resize: Box::new(resize),
        exit: exit.boxed(),
    })
}

/// Joins the container's own process.
pub async fn attach(
    docker: &Docker,
    id: &str,
    request: ProcessRequest<'_>,
) -> Result<ProcessIo, RuntimeError> {
    let options = AttachContainerOptionsBuilder::default()
        .stream(true)
        .stdin(request.stdin)
        .stdout(true)
        .stderr(true)
        .build();
    let attached = docker
        .attach_container(id, Some(options))
        .await
        .map_err(engine("attaching to the container"))?;
    let (output, ended) = signal_end(attached.output);
    let (waiter, container) = (docker.clone(), id.to_owned());
    let exit = async move {
        let _ = ended.await;
        let mut waited = waiter.wait_container(
            &container,
            None::<bollard::query_parameters::WaitContainerOptions>,
        );
        match waited.next().await {
            Some(Ok(response)) => Ok(response.status_code),
            // The engine answers a non-zero exit as an error carrying the code.
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
            Some(Err(error)) => Err(engine("waiting for the container")(error)),
            None => Ok(0),
        }
    };
    let (resizer, container) = (docker.clone(), id.to_owned());
    let resize = move |width: u16, height: u16| {
        let (resizer, container) = (resizer.clone(), container.clone());
        tokio::spawn(async move {
            let options = ResizeContainerTTYOptionsBuilder::default()
                .w(i32::from(width))
                .h(i32::from(height))
                .build();
            let _ = resizer.resize_container_tty(&container, options).await;
        });
    };
    Ok(ProcessIo {
        stdin: request.stdin.then_some(attached.input),
        output,
        resize: Box::new(resize),
        exit: exit.boxed(),
    })
}

/// The engine's output as (channel, bytes), and a signal sent once it has ended (the moment
/// the exit code can be asked for). A read error ends the output.
fn signal_end(
    output: impl Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send + 'static,
) -> (
    futures::stream::BoxStream<'static, (Stdio, Bytes)>,
    oneshot::Receiver<()>,
) {
    let (done, ended) = oneshot::channel::<()>();
    let chunks = output
        .take_while(|item| futures::future::ready(item.is_ok()))
        .filter_map(|item| {
            futures::future::ready(match item {
                Ok(LogOutput::StdErr { message }) => Some((Stdio::Stderr, message)),
                Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                    Some((Stdio::Stdout, message))
                }
                Ok(LogOutput::StdIn { .. }) | Err(_) => None,
            })
        })
        .chain(
            futures::stream::once(async move {
                let _ = done.send(());
                None
            })
            .filter_map(futures::future::ready),
        );
    (chunks.boxed(), ended)
}
