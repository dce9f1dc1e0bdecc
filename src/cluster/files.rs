//! Files handed to a container before it starts, packed as the tar archive Docker's archive
//! API takes. Keys and kubeconfigs are 0600, the rest 0644; directories are made as needed.

/// One file to place in a container, by its path from the root (no leading `/`).
#[derive(Debug, Clone)]
pub struct File {
    pub path: String,
    pub contents: Vec<u8>,
    pub mode: u32,
}

impl File {
    pub fn public(path: String, contents: impl Into<Vec<u8>>) -> File {
        File {
            path,
            contents: contents.into(),
            mode: 0o644,
        }
    }

    pub fn private(path: String, contents: impl Into<Vec<u8>>) -> File {
        File {
            path,
            contents: contents.into(),
            mode: 0o600,
        }
    }

    pub fn executable(path: String, contents: impl Into<Vec<u8>>) -> File {
        File {
            path,
            contents: contents.into(),
            mode: 0o755,
        }
    }
}

/// Packs files into a tar archive to extract at `/`.
pub fn archive(files: &[File]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for file in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(file.contents.len() as u64);
        header.set_mode(file.mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, &file.path, file.contents.as_slice())?;
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_keep_paths_and_modes() {
        let bytes = archive(&[
            File::private("etc/mkc/pki/node.key".into(), "secret"),
            File::public("etc/mkc/pki/ca.crt".into(), "ca"),
        ])
        .unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let entries: Vec<(String, u32, u64)> = archive
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let header = entry.header();
                (
                    entry.path().unwrap().display().to_string(),
                    header.mode().unwrap(),
                    header.size().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            [
                ("etc/mkc/pki/node.key".to_owned(), 0o600, 6),
                ("etc/mkc/pki/ca.crt".to_owned(), 0o644, 2)
            ]
        );
    }
}
