//! Measures loading a table file (a CSV, or any format `Data::load` reads, such as the Parquet
//! file `examples/csv_to_parquet.rs` writes) the way the server does for its first filtered
//! request: the file goes through `Data::load`, then one query is rendered (which builds the
//! index the filter needs). For instruction counts: `valgrind --tool=callgrind target/release/examples/load_csv
//! FILE`; a prices file comes from `bench/make_big_csv.py FILE --size-mb 150`.
//!
//! Usage: load_csv FILE [QUERY] (QUERY like `ticker=T001&start_date=2022-06-01`; the default
//! is the first query of `bench/run.sh --big`).

use std::time::Instant;

use openbb_files::data::Data;
use openbb_files::formats::{Caps, Reading};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: load_csv FILE [QUERY]");
    let query = args
        .next()
        .unwrap_or_else(|| "ticker=T001&start_date=2022-06-01&end_date=2022-06-01".into());
    let params: Vec<(String, String)> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    let size = std::fs::metadata(&path).expect("the file").len();
    let start = Instant::now();
    let mut file = std::fs::File::open(&path).expect("the file");
    let data =
        Data::load(&path, &mut file, &Reading::default(), &Caps::default()).expect("a table");
    let loaded = start.elapsed();
    let body = data
        .render(&params, &[], &openbb_files::filter::Limits::default())
        .expect("a response");
    let total = start.elapsed();
    println!(
        "{size} bytes: loaded in {:.3} s, first response ({} bytes) after {:.3} s = {:.0} MB/s",
        loaded.as_secs_f64(),
        body.as_ref().len(),
        total.as_secs_f64(),
        size as f64 / 1e6 / total.as_secs_f64()
    );
}
