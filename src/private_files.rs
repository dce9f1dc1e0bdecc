//! Files and directories only their owner may read: the data directory, keys, kubeconfigs and
//! token files. Each is created with its final mode (never created open and narrowed after, so
//! there is no moment another user could open it), and ones left by an older mkc with wider
//! modes are narrowed when they are used.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The mode of a private directory.
pub const DIR_MODE: u32 = 0o700;
/// The mode of a private file.
pub const FILE_MODE: u32 = 0o600;

/// Creates the directory `path` at 0700 (its missing parents as any directory is made).
/// An existing one is narrowed to 0700 only if `mine` says it holds what mkc put there: a
/// directory the user named that held other things (a home, `/tmp`) is never changed.
pub fn create_dir(path: &Path, mine: impl FnOnce(&Path) -> bool) -> std::io::Result<()> {
    if path.is_dir() {
        return if mine(path) {
            restrict(path, DIR_MODE)
        } else {
            Ok(())
        };
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(DIR_MODE).create(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
        other => other,
    }
}

/// Makes `path` an empty file at 0600 if there is none, so whatever fills it later (a
/// database) never holds it readable; narrows an existing one.
pub fn create_file(path: &Path) -> std::io::Result<()> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => restrict(path, FILE_MODE),
        Err(e) => Err(e),
    }
}

/// Writes `contents` to `path` at 0600, replacing the file whole: the bytes go to a new file
/// beside it, made at 0600, which is synced and then renamed over `path`, so a reader (or a
/// crash) sees the old contents or the new, never a mix, and never a readable copy.
pub fn write(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("a file path is needed"))?;
    let mut temporary = name.to_owned();
    temporary.push(format!(".tmp-{}", std::process::id()));
    let temporary = dir.join(temporary);
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(FILE_MODE)
            .open(&temporary)?;
        // A stale temporary file left by a crash keeps its old mode through `open`.
        restrict(&temporary, FILE_MODE)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Narrows an existing private file to 0600 (a file written by an older mkc may be wider).
pub fn restrict_file(path: &Path) -> std::io::Result<()> {
    restrict(path, FILE_MODE)
}

fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn directories_are_made_private_and_only_ours_are_narrowed() {
        let root = tempfile::tempdir().unwrap();
        let nested = root.path().join("a/b");
        create_dir(&nested, |_| true).unwrap();
        assert_eq!(mode(&nested), 0o700);
        assert_ne!(
            mode(&root.path().join("a")),
            0o700,
            "parents are left as made"
        );

        let wide = root.path().join("wide");
        std::fs::create_dir(&wide).unwrap();
        std::fs::set_permissions(&wide, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_dir(&wide, |_| false).unwrap();
        assert_eq!(
            mode(&wide),
            0o755,
            "a directory that is not ours is left alone"
        );
        create_dir(&wide, |_| true).unwrap();
        assert_eq!(mode(&wide), 0o700);
    }

    #[test]
    fn an_empty_private_file_is_made_before_anything_fills_it() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("store.redb");
        create_file(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        std::fs::write(&path, "kept").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_file(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "kept");
    }

    #[test]
    fn files_are_written_whole_at_0600_even_over_a_wider_one() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("admin.kubeconfig");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(mode(&path), 0o600);
        let left: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn existing_files_are_narrowed() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("tokens.csv");
        std::fs::write(&path, "t").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        restrict_file(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
    }
}
