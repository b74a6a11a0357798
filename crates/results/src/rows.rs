//! Per-run rows of dataset and sweep jobs on disk: one file per chunk,
//! `<data_dir>/<job id>/chunk-000123.rows`, holding the chunk's `tanksim.v1.RunRow`s in run
//! order, each length-delimited (varint length, then the message).
//!
//! A chunk's file appears atomically: it is written to a temporary file in the same
//! directory, fsynced, renamed into place and the directory fsynced, so a reader (or a
//! restarted service) sees either no file or the whole chunk. Readers only ever open
//! `chunk-*.rows` names, so a temporary file left by a crash is ignored, and
//! [`RowsDir::remove_stale_temps`] deletes old ones at start. Rows stream through a small
//! buffer: reading a chunk never holds more than one row.
//!
//! A cancelled job's directory is removed whole ([`RowsDir::remove_job`]; see `cleanup` for
//! when).
//!
//! Everything here is blocking file I/O; async callers go through `spawn_blocking`.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use prost::Message;
use tanksim_proto::v1::RunRow;

use crate::error::Error;

/// The longest row a file may hold (a corrupt length must not make us allocate gigabytes).
const MAX_ROW_BYTES: usize = 256 << 20;

/// Marks temporary files; never part of a chunk file's name.
const TEMP_MARKER: &str = ".tmp-";

/// The data directory.
#[derive(Debug, Clone)]
pub(crate) struct RowsDir {
    root: PathBuf,
}

impl RowsDir {
    pub(crate) fn new(root: impl Into<PathBuf>) -> Self {
        RowsDir { root: root.into() }
    }

    /// `<root>/<job>/chunk-000123.rows` (the job id is checked to be path-safe before any
    /// call reaches here).
    pub(crate) fn chunk_path(&self, job: &str, chunk: u32) -> PathBuf {
        self.root.join(job).join(format!("chunk-{chunk:06}.rows"))
    }

    /// Writes a chunk's rows atomically, unless its file exists already (rows are
    /// deterministic, so a second report of the chunk carries the same bytes). Returns whether
    /// a file was written.
    pub(crate) fn write_chunk(&self, job: &str, chunk: u32, rows: &[RunRow]) -> Result<bool, Error> {
        let path = self.chunk_path(job, chunk);
        if path.exists() {
            return Ok(false);
        }
        let dir = self.root.join(job);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let name = format!("chunk-{chunk:06}.rows{TEMP_MARKER}{}", uuid::Uuid::now_v7().simple());
        let temp = dir.join(name);
        let written = write_file(&temp, rows).and_then(|()| std::fs::rename(&temp, &path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(Error::io(&path, e));
        }
        // The rename is durable only once the directory entry is.
        File::open(&dir).and_then(|d| d.sync_all()).map_err(|e| Error::io(&dir, e))?;
        Ok(true)
    }

    /// The chunk's rows, `None` if the chunk has no file (yet).
    pub(crate) fn open_chunk(&self, job: &str, chunk: u32) -> Result<Option<RowReader>, Error> {
        let path = self.chunk_path(job, chunk);
        match File::open(&path) {
            Ok(file) => {
                Ok(Some(RowReader { file: BufReader::with_capacity(64 << 10, file), path, buf: Vec::new() }))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Deletes the job's directory with every rows file in it. Returns whether there was one.
    /// Safe to run on two replicas at once, and beside a write (which then fails, and its
    /// report is retried).
    pub(crate) fn remove_job(&self, job: &str) -> Result<bool, Error> {
        let dir = self.root.join(job);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(dir, e)),
        }
    }

    /// How long since anything was written in the job's directory (its modification time:
    /// a file created, renamed or removed there); `None` if it has none, or the clock went back.
    pub(crate) fn idle_for(&self, job: &str) -> Option<Duration> {
        let modified = std::fs::metadata(self.root.join(job)).and_then(|m| m.modified()).ok()?;
        SystemTime::now().duration_since(modified).ok()
    }

    /// The ids of the jobs that have a directory (names that are not job ids are skipped).
    pub(crate) fn jobs(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.root) else { return Vec::new() };
        entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| tanksim_proto::convert::check_job_id("id", name).is_ok())
            .collect()
    }

    /// Deletes temporary files older than `age` in every job directory (left by a crash
    /// between write and rename). Younger ones may belong to a write in flight on another
    /// replica sharing the directory, so they stay. Returns how many were removed.
    pub(crate) fn remove_stale_temps(&self, age: Duration) -> usize {
        let Ok(jobs) = std::fs::read_dir(&self.root) else { return 0 };
        let now = SystemTime::now();
        let mut removed = 0;
        for job in jobs.flatten() {
            let Ok(files) = std::fs::read_dir(job.path()) else { continue };
            for file in files.flatten() {
                let stale = file.file_name().to_string_lossy().contains(TEMP_MARKER)
                    && file
                        .metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| now.duration_since(t).is_ok_and(|d| d >= age));
                if stale && std::fs::remove_file(file.path()).is_ok() {
                    tracing::info!(path = %file.path().display(), "removed a stale temporary rows file");
                    removed += 1;
                }
            }
        }
        removed
    }
}

fn write_file(path: &Path, rows: &[RunRow]) -> std::io::Result<()> {
    let file = File::create_new(path)?;
    let mut out = BufWriter::with_capacity(64 << 10, file);
    let mut buf = Vec::new();
    for row in rows {
        buf.clear();
        row.encode_length_delimited(&mut buf).map_err(std::io::Error::other)?;
        out.write_all(&buf)?;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// Streams one chunk file's rows.
#[derive(Debug)]
pub(crate) struct RowReader {
    file: BufReader<File>,
    path: PathBuf,
    buf: Vec<u8>,
}

impl RowReader {
    /// The next row, `None` at the end of the file.
    pub(crate) fn next_row(&mut self) -> Result<Option<RunRow>, Error> {
        let Some(len) = self.read_len()? else { return Ok(None) };
        if len > MAX_ROW_BYTES {
            return Err(self.corrupt(format!("row of {len} bytes")));
        }
        self.buf.resize(len, 0);
        self.file.read_exact(&mut self.buf).map_err(|e| match e.kind() {
            ErrorKind::UnexpectedEof => self.corrupt("truncated row"),
            _ => Error::io(&self.path, e),
        })?;
        RunRow::decode(self.buf.as_slice()).map(Some).map_err(|e| self.corrupt(e))
    }

    /// A varint length; `None` at a clean end of file.
    fn read_len(&mut self) -> Result<Option<usize>, Error> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let byte = match self.file.fill_buf() {
                Ok([]) if i == 0 => return Ok(None),
                Ok([]) => return Err(self.corrupt("truncated length")),
                Ok(bytes) => bytes[0],
                Err(e) => return Err(Error::io(&self.path, e)),
            };
            self.file.consume(1);
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(Some(usize::try_from(value).unwrap_or(usize::MAX)));
            }
        }
        Err(self.corrupt("length varint too long"))
    }

    fn corrupt(&self, detail: impl ToString) -> Error {
        Error::corrupt(format!("rows file {}", self.path.display()), detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(run: u64) -> RunRow {
        RunRow { run, params: vec![run as f64, 0.5], metrics: vec![f64::NAN, 1.0], trajectory: None }
    }

    fn read_all(dir: &RowsDir, job: &str, chunk: u32) -> Vec<RunRow> {
        let mut reader = dir.open_chunk(job, chunk).expect("open").expect("present");
        std::iter::from_fn(|| reader.next_row().expect("valid row")).collect()
    }

    #[test]
    fn rows_round_trip_and_a_second_write_keeps_the_first() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = RowsDir::new(tmp.path());
        assert!(dir.open_chunk("j", 3).expect("open").is_none());
        let rows: Vec<RunRow> = (300..400).map(row).collect();
        assert!(dir.write_chunk("j", 3, &rows).expect("write"));
        assert!(!dir.write_chunk("j", 3, &rows[..1]).expect("second write"));
        let back = read_all(&dir, "j", 3);
        assert_eq!(back.len(), 100);
        assert_eq!(back[7].run, 307);
        assert!(back[7].metrics[0].is_nan());
        assert!(dir.chunk_path("j", 3).ends_with("j/chunk-000003.rows"));
        assert!(dir.write_chunk("j", 4, &[]).expect("empty chunk"));
        assert!(read_all(&dir, "j", 4).is_empty());
    }

    #[test]
    fn truncated_files_are_corrupt_not_short() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = RowsDir::new(tmp.path());
        dir.write_chunk("j", 0, &[row(0), row(1)]).expect("write");
        let path = dir.chunk_path("j", 0);
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(&path, &bytes[..bytes.len() - 3]).expect("truncate");
        let mut reader = dir.open_chunk("j", 0).expect("open").expect("present");
        assert_eq!(reader.next_row().expect("first row intact").map(|r| r.run), Some(0));
        assert!(matches!(reader.next_row(), Err(Error::Corrupt { .. })));
    }

    #[test]
    fn a_job_is_removed_whole_and_listed_until_then() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = RowsDir::new(tmp.path());
        dir.write_chunk("j1", 0, &[row(0)]).expect("write");
        dir.write_chunk("j1", 1, &[row(1)]).expect("write");
        dir.write_chunk("j2", 0, &[row(0)]).expect("write");
        std::fs::create_dir(tmp.path().join("not a job")).expect("mkdir");
        std::fs::write(tmp.path().join("stray-file"), b"x").expect("write");
        let mut jobs = dir.jobs();
        jobs.sort();
        assert_eq!(jobs, ["j1", "j2"]);
        assert!(dir.remove_job("j1").expect("removed"));
        assert!(!tmp.path().join("j1").exists());
        assert!(dir.open_chunk("j1", 0).expect("open").is_none());
        assert!(!dir.remove_job("j1").expect("already gone"));
        assert_eq!(read_all(&dir, "j2", 0).len(), 1, "other jobs keep their rows");
        assert_eq!(dir.jobs(), ["j2"]);
    }

    #[test]
    fn only_old_temporary_files_are_removed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = RowsDir::new(tmp.path());
        dir.write_chunk("j", 0, &[row(0)]).expect("write");
        let old = tmp.path().join("j/chunk-000001.rows.tmp-old");
        let young = tmp.path().join("j/chunk-000002.rows.tmp-young");
        std::fs::write(&old, b"partial").expect("write");
        std::fs::write(&young, b"partial").expect("write");
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        File::options().write(true).open(&old).and_then(|f| f.set_modified(hour_ago)).expect("mtime");
        assert_eq!(dir.remove_stale_temps(Duration::from_secs(600)), 1);
        assert!(!old.exists() && young.exists());
        assert!(dir.open_chunk("j", 1).expect("open").is_none());
        assert_eq!(read_all(&dir, "j", 0).len(), 1);
    }
}
