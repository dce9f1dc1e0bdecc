//! The pause image: one static binary (built from `pause/pause.rs` by the build script) in an
//! image with no base, imported into the engine the first time a sandbox needs it.

use bollard::Docker;
use bollard::body_full;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures::TryStreamExt;

use super::engine_error;
use crate::runtime::RuntimeError;

const BINARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pause"));
const REPOSITORY: &str = "mkc.local/pause";
/// Each agent version brings its own pause binary, so the tag is the agent's version.
const TAG: &str = env!("CARGO_PKG_VERSION");

/// The pause image's reference.
pub fn image() -> String {
    format!("{REPOSITORY}:{TAG}")
}

/// Imports the pause image unless the engine has it.
pub async fn ensure(docker: &Docker) -> Result<(), RuntimeError> {
    match docker.inspect_image(&image()).await {
        Ok(_) => return Ok(()),
        Err(error) => match engine_error("the pause image")(error) {
            RuntimeError::NotFound(_) => {}
            other => return Err(other),
        },
    }
    let archive =
        archive().map_err(|e| RuntimeError::Engine(format!("packing the pause image: {e}")))?;
    let options = CreateImageOptionsBuilder::default()
        .from_src("-")
        .repo(REPOSITORY)
        .tag(TAG)
        .changes(vec![r#"ENTRYPOINT ["/pause"]"#.to_owned()])
        .build();
    docker
        .create_image(Some(options), Some(body_full(archive.into())), None)
        .try_collect::<Vec<_>>()
        .await
        .map_err(engine_error("importing the pause image"))?;
    Ok(())
}

/// The image's root file system: `/pause`, executable.
fn archive() -> std::io::Result<Vec<u8>> {
    let mut header = tar::Header::new_gnu();
    header.set_size(BINARY.len() as u64);
    header.set_mode(0o755);
    header.set_entry_type(tar::EntryType::Regular);
    let mut builder = tar::Builder::new(Vec::new());
    builder.append_data(&mut header, "pause", BINARY)?;
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_holds_one_static_executable() {
        let bytes = archive().unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let entries: Vec<_> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().display().to_string(),
                    e.header().mode().unwrap(),
                    e.size(),
                )
            })
            .collect();
        assert_eq!(entries, [("pause".to_owned(), 0o755, BINARY.len() as u64)]);
        assert_eq!(&BINARY[..4], b"\x7fELF");
    }
}
