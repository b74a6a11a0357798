//! Writing per-run rows (from `ExportRuns`) to CSV or Parquet.
//!
//! Columns: `run`, one per varied parameter (its path), one per metric (its name; empty/null
//! when absent); with trajectories, Parquet adds list columns `t`, `h`, `u`, `r` and CSV writes
//! them to a second, long-format file `<name>.trajectories.csv` (`run,t,h,u,r`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use arrow_array::builder::{Float64Builder, ListBuilder};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use tanksim_proto::v1::ExportRunsResponse;
use tanksim_sim_core::Metric;

use crate::cli::ExportFormat;

/// A destination for row batches.
pub trait RowsWriter {
    fn write(&mut self, batch: &ExportRunsResponse) -> anyhow::Result<()>;
    /// Flushes and closes; returns the files written.
    fn finish(self: Box<Self>) -> anyhow::Result<Vec<PathBuf>>;
}

/// A writer for `format` at `path`.
pub fn writer(format: ExportFormat, path: &Path) -> anyhow::Result<Box<dyn RowsWriter>> {
    Ok(match format {
        ExportFormat::Csv => Box::new(CsvRows::create(path)?),
        ExportFormat::Parquet => Box::new(ParquetRows { path: path.to_owned(), params: None, writer: None }),
    })
}

fn metric_names() -> impl Iterator<Item = &'static str> {
    Metric::ALL.iter().map(|m| m.name())
}

fn csv_num(v: f64) -> String {
    if v.is_nan() { String::new() } else { format!("{v}") }
}

struct CsvRows {
    path: PathBuf,
    rows: BufWriter<File>,
    trajectories: Option<BufWriter<File>>,
    header_written: bool,
}

impl CsvRows {
    fn create(path: &Path) -> anyhow::Result<Self> {
        let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
            rows: BufWriter::new(file),
            trajectories: None,
            header_written: false,
        })
    }

    fn trajectory_path(&self) -> PathBuf {
        self.path.with_extension("trajectories.csv")
    }
}

impl RowsWriter for CsvRows {
    fn write(&mut self, batch: &ExportRunsResponse) -> anyhow::Result<()> {
        if !self.header_written {
            let mut header = vec!["run".to_owned()];
            header.extend(batch.params.iter().cloned());
            header.extend(metric_names().map(str::to_owned));
            writeln!(self.rows, "{}", header.join(","))?;
            self.header_written = true;
        }
        for row in &batch.rows {
            let mut line = row.run.to_string();
            for v in row.params.iter().chain(&row.metrics) {
                line.push(',');
                line.push_str(&csv_num(*v));
            }
            writeln!(self.rows, "{line}")?;
            if let Some(tr) = &row.trajectory {
                if self.trajectories.is_none() {
                    let path = self.trajectory_path();
                    let mut w = BufWriter::new(
                        File::create(&path).with_context(|| format!("creating {}", path.display()))?,
                    );
                    writeln!(w, "run,t,h,u,r")?;
                    self.trajectories = Some(w);
                }
                if let Some(w) = &mut self.trajectories {
                    for i in 0..tr.t.len() {
                        let at = |v: &[f64]| v.get(i).copied().unwrap_or(f64::NAN);
                        writeln!(w, "{},{},{},{},{}", row.run, tr.t[i], at(&tr.h), at(&tr.u), at(&tr.r))?;
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> anyhow::Result<Vec<PathBuf>> {
        self.rows.flush()?;
        let mut files = vec![self.path.clone()];
        if let Some(mut w) = self.trajectories.take() {
            w.flush()?;
            files.push(self.trajectory_path());
        }
        Ok(files)
    }
}

struct ParquetRows {
    path: PathBuf,
    params: Option<Vec<String>>,
    writer: Option<(ArrowWriter<File>, Arc<Schema>)>,
}

impl ParquetRows {
    fn schema(params: &[String], trajectories: bool) -> Arc<Schema> {
        let mut fields = vec![Field::new("run", DataType::UInt64, false)];
        fields.extend(params.iter().map(|p| Field::new(p, DataType::Float64, false)));
        fields.extend(metric_names().map(|m| Field::new(m, DataType::Float64, true)));
        if trajectories {
            for c in ["t", "h", "u", "r"] {
                fields.push(Field::new(
                    c,
                    DataType::List(Arc::new(Field::new("item", DataType::Float64, true))),
                    true,
                ));
            }
        }
        Arc::new(Schema::new(fields))
    }
}

impl RowsWriter for ParquetRows {
    fn write(&mut self, batch: &ExportRunsResponse) -> anyhow::Result<()> {
        if self.params.is_none() {
            self.params = Some(batch.params.clone());
        }
        if batch.rows.is_empty() {
            return Ok(());
        }
        let params = self.params.clone().unwrap_or_default();
        if self.writer.is_none() {
            let schema = Self::schema(&params, batch.rows.iter().any(|r| r.trajectory.is_some()));
            let file =
                File::create(&self.path).with_context(|| format!("creating {}", self.path.display()))?;
            // Snappy: fast, and trajectories (smooth curves, repeated inputs) shrink well.
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::SNAPPY)
                .build();
            self.writer = Some((ArrowWriter::try_new(file, schema.clone(), Some(props))?, schema));
        }
        let Some((writer, schema)) = &mut self.writer else { return Ok(()) };
        let mut columns: Vec<ArrayRef> =
            vec![Arc::new(UInt64Array::from_iter_values(batch.rows.iter().map(|r| r.run)))];
        for i in 0..params.len() {
            columns.push(Arc::new(Float64Array::from_iter_values(
                batch.rows.iter().map(|r| r.params.get(i).copied().unwrap_or(f64::NAN)),
            )));
        }
        for i in 0..Metric::COUNT {
            columns.push(Arc::new(Float64Array::from_iter(
                batch.rows.iter().map(|r| r.metrics.get(i).copied().filter(|v| !v.is_nan())),
            )));
        }
        if schema.fields().len() > 1 + params.len() + Metric::COUNT {
            type Pick = fn(&tanksim_proto::v1::Trajectory) -> &Vec<f64>;
            let picks: [Pick; 4] = [|t| &t.t, |t| &t.h, |t| &t.u, |t| &t.r];
            for pick in picks {
                let mut list = ListBuilder::new(Float64Builder::new());
                for r in &batch.rows {
                    match &r.trajectory {
                        Some(t) => {
                            list.values().append_slice(pick(t));
                            list.append(true);
                        }
                        None => list.append(false),
                    }
                }
                columns.push(Arc::new(list.finish()));
            }
        }
        writer.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
        Ok(())
    }

    fn finish(self: Box<Self>) -> anyhow::Result<Vec<PathBuf>> {
        match self.writer {
            Some((writer, _)) => {
                writer.close()?;
                Ok(vec![self.path])
            }
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use tanksim_proto::v1::{RunRow, Trajectory};

    use super::*;

    fn batch() -> ExportRunsResponse {
        let row = |run: u64| RunRow {
            run,
            params: vec![run as f64 + 0.5],
            metrics: (0..Metric::COUNT).map(|i| if i == 1 { f64::NAN } else { i as f64 }).collect(),
            trajectory: Some(Trajectory {
                t: vec![0.0, 0.5],
                h: vec![0.0, 0.1],
                u: vec![1.0, 1.0],
                r: vec![1.0, 1.0],
            }),
        };
        ExportRunsResponse { params: vec!["plant.tau".into()], rows: vec![row(0), row(1)] }
    }

    #[test]
    fn csv_has_header_rows_and_long_trajectories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.csv");
        let mut w = writer(ExportFormat::Csv, &path).unwrap();
        w.write(&batch()).unwrap();
        let files = w.finish().unwrap();
        assert_eq!(files.len(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert!(lines[0].starts_with("run,plant.tau,overshoot_pct,rise_time,"));
        assert!(lines[1].starts_with("0,0.5,0,,2,"), "{}", lines[1]);
        let tr = std::fs::read_to_string(&files[1]).unwrap();
        assert_eq!(tr.lines().count(), 1 + 4);
    }

    #[test]
    fn parquet_round_trips_through_arrow() {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.parquet");
        let mut w = writer(ExportFormat::Parquet, &path).unwrap();
        w.write(&batch()).unwrap();
        w.finish().unwrap();
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap().build().unwrap();
        let batches: Vec<_> = reader.map(Result::unwrap).collect();
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        assert_eq!(rows, 2);
        let schema = batches[0].schema();
        assert_eq!(schema.field(1).name(), "plant.tau");
        assert!(schema.field_with_name("h").is_ok());
        let rise = batches[0].column_by_name("rise_time").unwrap();
        assert_eq!(rise.null_count(), 2);
    }
}
