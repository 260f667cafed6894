//! `<state dir>/secret-key`: 32 random bytes, mode 0600, made once per state directory. Cache
//! keys hash secrets with it (blake3's keyed mode), so a key says whether a secret changed
//! without being a plain hash that a guess could be checked against.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

/// The state directory's key, created (atomically: the first of two racing runs wins) when
/// it does not exist yet.
pub(crate) fn load_or_create(state_dir: &Path) -> std::io::Result<[u8; 32]> {
    let path = state_dir.join("secret-key");
    match read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        other => return other,
    }
    std::fs::create_dir_all(state_dir)?;
    let mut key = [0_u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".secret-key.")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(state_dir)?;
    tmp.write_all(&key)?;
    tmp.as_file().sync_all()?;
    // A hard link fails when the name exists: then another run made the key first.
    match std::fs::hard_link(tmp.path(), &path) {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(&path),
        Err(e) => Err(e),
    }
}

fn read(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)?;
    let mut key = [0_u8; 32];
    let mut rest = Vec::new();
    file.read_exact(&mut key)?;
    file.read_to_end(&mut rest)?;
    if !rest.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("`{}` is not a 32-byte key", path.display()),
        ));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        let second = load_or_create(dir.path()).unwrap();
        assert_eq!(first, second);
        let mode = std::fs::metadata(dir.path().join("secret-key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let other = tempfile::tempdir().unwrap();
        assert_ne!(load_or_create(other.path()).unwrap(), first);
    }
}
