//! The JSON answer: [`Table::write_json`] writes rows as objects, keys in header order.

use std::io::Write;

use super::{Cell, Table};

impl Table {
    /// Writes the chosen rows as a JSON array of objects whose keys follow the header order.
    pub fn write_json(&self, rows: impl Iterator<Item = usize>, out: &mut Vec<u8>) {
        let keys: Vec<Vec<u8>> = self
            .names
            .iter()
            .map(|name| {
                let mut key = serde_json::to_vec(name).unwrap_or_default();
                key.push(b':');
                key
            })
            .collect();
        out.push(b'[');
        for (position, row) in rows.enumerate() {
            if position > 0 {
                out.push(b',');
            }
            out.push(b'{');
            for (column, key) in keys.iter().enumerate() {
                if column > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(key);
                write_cell(self.cell(row, column), out);
            }
            out.push(b'}');
        }
        out.push(b']');
    }
}

fn write_cell(cell: Cell<'_>, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail, and every value here is finite.
    let _ = match cell {
        Cell::Null => out.write_all(b"null"),
        Cell::Bool(value) => out.write_all(if value { b"true" } else { b"false" }),
        Cell::Int(value) => serde_json::to_writer(&mut *out, &value).map_err(Into::into),
        Cell::Float(value) => serde_json::to_writer(&mut *out, &value).map_err(Into::into),
        Cell::Text(value) => serde_json::to_writer(&mut *out, value).map_err(Into::into),
    };
}
