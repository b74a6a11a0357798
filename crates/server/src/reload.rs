//! Values read from a file or URL and re-read in the background (a rotated Kubernetes Secret,
//! an issuer's new signing key), swapped in whole so a call sees the old or the new, never a
//! mixture. A failed re-read keeps the old value and logs why.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

/// The current value.
#[derive(Debug)]
pub struct Reloading<T> {
    current: RwLock<Arc<T>>,
}

impl<T: Send + Sync + 'static> Reloading<T> {
    pub fn new(value: T) -> Arc<Self> {
        Arc::new(Reloading { current: RwLock::new(Arc::new(value)) })
    }

    pub fn get(&self) -> Arc<T> {
        // Writers only swap an Arc: a poisoned lock still holds a whole value.
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set(&self, value: T) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(value);
    }

    /// Every `interval`, runs `load` and swaps in what it returns (`Ok(None)`: unchanged),
    /// until `self` is dropped. Needs a tokio runtime.
    pub fn poll<F, Fut>(self: &Arc<Self>, what: &'static str, interval: Duration, mut load: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Option<T>, String>> + Send,
    {
        let target: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let Some(target) = target.upgrade() else { return };
                match load().await {
                    Ok(Some(value)) => {
                        target.set(value);
                        tracing::info!(what, "reloaded");
                    }
                    Ok(None) => {}
                    Err(error) => tracing::warn!(what, %error, "reload failed; keeping the previous value"),
                }
            }
        });
    }
}

impl<T: Send + Sync + 'static> Reloading<T> {
    /// [`Reloading::poll`] for a value read from `path` by `read`: read again only when the
    /// file changed ([`fingerprint`]), and a version that fails to read is tried again at
    /// the next change or tick, the previous value kept meanwhile.
    pub fn poll_file<F>(self: &Arc<Self>, what: &'static str, interval: Duration, path: PathBuf, read: F)
    where
        F: Fn(&Path) -> Result<T, String> + Send + 'static,
    {
        let paths = vec![path.clone()];
        self.poll_files(what, interval, paths, move || read(&path));
    }

    /// [`Reloading::poll_file`] for a value read from several files (a certificate, its key and
    /// the CA that checks peers): read again when any of them changed.
    pub fn poll_files<F>(
        self: &Arc<Self>,
        what: &'static str,
        interval: Duration,
        paths: Vec<PathBuf>,
        read: F,
    ) where
        F: Fn() -> Result<T, String> + Send + 'static,
    {
        let versions = move || paths.iter().map(|p| fingerprint(p)).collect::<Vec<_>>();
        let mut seen = versions();
        self.poll(what, interval, move || {
            let now = versions();
            let result = if now == seen { Ok(None) } else { read().map(Some) };
            if result.is_ok() {
                seen = now;
            }
            std::future::ready(result)
        });
    }
}

/// What identifies a version of a file: its inode, modification time and length, through
/// symlinks. A Kubernetes Secret volume swaps its `..data` symlink to new files (a new inode);
/// an edit in place changes the time (whose resolution may be coarse) or the length.
fn fingerprint(path: &Path) -> Option<(u64, SystemTime, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.ino(), meta.modified().ok()?, meta.len()))
}
