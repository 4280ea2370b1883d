//! How much disk a tree takes, and how much a filesystem has left.

use std::path::Path;

/// The disk space `tree` takes (blocks in use, each file once however many links it has, and
/// every entry at least one 4 KiB block, so a tree of empty files or links is bounded too),
/// counted without following a link; the count stops once past `stop_after`. Memory grows with
/// the tree's depth (one open directory per level), never with a directory's width.
pub fn usage(tree: &Path, stop_after: u64) -> std::io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    const BLOCK: u64 = 4096;
    let cost = |meta: &std::fs::Metadata| meta.blocks().saturating_mul(512).max(BLOCK);
    let root = std::fs::symlink_metadata(tree)?;
    let mut total = cost(&root);
    if !root.is_dir() {
        return Ok(total);
    }
    let mut linked = std::collections::HashSet::new();
    let mut open = vec![std::fs::read_dir(tree)?];
    while let Some(dir) = open.last_mut() {
        let Some(entry) = dir.next() else {
            open.pop();
            continue;
        };
        let entry = entry?;
        // A directory entry's metadata is the link's own, never its target's.
        let meta = entry.metadata()?;
        if meta.is_dir() || meta.nlink() <= 1 || linked.insert((meta.dev(), meta.ino())) {
            total = total.saturating_add(cost(&meta));
        }
        if total > stop_after {
            break;
        }
        if meta.is_dir() {
            open.push(std::fs::read_dir(entry.path())?);
        }
    }
    Ok(total)
}

/// How many bytes the filesystem holding `path` has for files, in use or not.
pub(super) fn total_bytes(path: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(path).ok()?;
    Some(stat.f_blocks.saturating_mul(stat.f_frsize))
}

/// How many bytes are still free on the filesystem holding `path`.
pub fn free_bytes(path: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(path).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_counts_each_file_once_every_entry_at_least_a_block_and_stops_past_its_bound() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("data"), vec![1u8; 64 << 10]).expect("write");
        std::fs::hard_link(dir.path().join("data"), dir.path().join("again")).expect("link");
        std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
        for i in 0..100 {
            std::fs::write(dir.path().join("empty").join(i.to_string()), b"").expect("touch");
        }
        let used = usage(dir.path(), u64::MAX).expect("usage");
        let least = (64 << 10) + 102 * 4096;
        assert!(used >= least && used < least + (64 << 10), "{used}");
        let stopped = usage(dir.path(), 20_000).expect("usage");
        assert!(stopped > 20_000 && stopped < used, "{stopped}");
    }
}
