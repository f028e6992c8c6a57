//! The CSV layout of each importable kind: its columns, reading a file into the use cases' text
//! rows (with the file line of each row), and writing rows back in the same layout.
//!
//! Columns are matched by header name, so their order is free; an unknown header is an error
//! (a typo would otherwise drop a column silently). The column lists are also the export order.

use std::{collections::HashMap, io};

use anyhow::{Context, bail};
use quanyu_app::{RegionRow, SkuRow, StaffRow, StoreRow};

/// A row type with a CSV layout.
pub trait CsvRow: Sized {
    /// Every column, in export order.
    const COLUMNS: &'static [&'static str];
    /// The columns a file must have.
    const REQUIRED: &'static [&'static str];
    /// Builds a row from its file line and a column getter (empty for an absent column).
    fn from_columns(line: usize, get: &dyn Fn(&str) -> String) -> Self;
    /// The values in [`Self::COLUMNS`] order.
    fn to_columns(&self) -> Vec<&str>;
}

impl CsvRow for RegionRow {
    const COLUMNS: &'static [&'static str] = &["code", "name"];
    const REQUIRED: &'static [&'static str] = &["code", "name"];

    fn from_columns(line: usize, get: &dyn Fn(&str) -> String) -> Self {
        RegionRow { line, code: get("code"), name: get("name") }
    }

    fn to_columns(&self) -> Vec<&str> {
        vec![&self.code, &self.name]
    }
}

impl CsvRow for StoreRow {
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "name",
        "region",
        "address",
        "lat",
        "lng",
        "opening_hours",
        "time_zone",
        "area_m2",
        "delivery_radius_m",
        "phone",
        "status",
        "kind",
    ];
    const REQUIRED: &'static [&'static str] = &["code", "name", "region", "address", "lat", "lng", "area_m2"];

    fn from_columns(line: usize, get: &dyn Fn(&str) -> String) -> Self {
        StoreRow {
            line,
            code: get("code"),
            name: get("name"),
            region: get("region"),
            address: get("address"),
            lat: get("lat"),
            lng: get("lng"),
            opening_hours: get("opening_hours"),
            time_zone: get("time_zone"),
            area_m2: get("area_m2"),
            delivery_radius_m: get("delivery_radius_m"),
            phone: get("phone"),
            status: get("status"),
            kind: get("kind"),
        }
    }

    fn to_columns(&self) -> Vec<&str> {
        vec![
            &self.code,
            &self.name,
            &self.region,
            &self.address,
            &self.lat,
            &self.lng,
            &self.opening_hours,
            &self.time_zone,
            &self.area_m2,
            &self.delivery_radius_m,
            &self.phone,
            &self.status,
            &self.kind,
        ]
    }
}

impl CsvRow for StaffRow {
    const COLUMNS: &'static [&'static str] =
        &["username", "display_name", "phone", "role", "region", "store", "status", "password", "password_hash"];
    const REQUIRED: &'static [&'static str] = &["username", "display_name", "role"];

    fn from_columns(line: usize, get: &dyn Fn(&str) -> String) -> Self {
        StaffRow {
            line,
            username: get("username"),
            display_name: get("display_name"),
            phone: get("phone"),
            role: get("role"),
            region: get("region"),
            store: get("store"),
            status: get("status"),
            password: get("password"),
            password_hash: get("password_hash"),
        }
    }

    fn to_columns(&self) -> Vec<&str> {
        vec![
            &self.username,
            &self.display_name,
            &self.phone,
            &self.role,
            &self.region,
            &self.store,
            &self.status,
            &self.password,
            &self.password_hash,
        ]
    }
}

impl CsvRow for SkuRow {
    const COLUMNS: &'static [&'static str] = &[
        "product",
        "category",
        "brand",
        "kind",
        "code",
        "barcode",
        "name",
        "unit",
        "sold_by_weight",
        "attributes",
        "images",
        "base_price",
        "store_price",
        "online_price",
        "member_price",
        "cost_price",
        "online_only",
        "status",
    ];
    const REQUIRED: &'static [&'static str] = &["product", "category", "code", "name", "unit", "base_price"];

    fn from_columns(line: usize, get: &dyn Fn(&str) -> String) -> Self {
        SkuRow {
            line,
            product: get("product"),
            category: get("category"),
            brand: get("brand"),
            kind: get("kind"),
            code: get("code"),
            barcode: get("barcode"),
            name: get("name"),
            unit: get("unit"),
            sold_by_weight: get("sold_by_weight"),
            attributes: get("attributes"),
            images: get("images"),
            base_price: get("base_price"),
            store_price: get("store_price"),
            online_price: get("online_price"),
            member_price: get("member_price"),
            cost_price: get("cost_price"),
            online_only: get("online_only"),
            status: get("status"),
        }
    }

    fn to_columns(&self) -> Vec<&str> {
        vec![
            &self.product,
            &self.category,
            &self.brand,
            &self.kind,
            &self.code,
            &self.barcode,
            &self.name,
            &self.unit,
            &self.sold_by_weight,
            &self.attributes,
            &self.images,
            &self.base_price,
            &self.store_price,
            &self.online_price,
            &self.member_price,
            &self.cost_price,
            &self.online_only,
            &self.status,
        ]
    }
}

/// Reads every row of a CSV file with a header row. A malformed file (bad quoting, a row with
/// the wrong number of fields, missing or unknown columns) is an error naming the line.
pub fn read_rows<R: CsvRow>(input: impl io::Read) -> anyhow::Result<Vec<R>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(input);
    let headers = reader.headers().context("reading the header row")?.clone();
    let mut index = HashMap::new();
    for (i, header) in headers.iter().enumerate() {
        // Spreadsheets often save UTF-8 with a byte-order mark before the first header.
        let name = header.trim_start_matches('\u{feff}').trim();
        if !R::COLUMNS.contains(&name) {
            bail!("line 1: unknown column {name:?}; the columns are: {}", R::COLUMNS.join(", "));
        }
        if index.insert(name.to_owned(), i).is_some() {
            bail!("line 1: column {name:?} appears twice");
        }
    }
    let missing: Vec<&str> = R::REQUIRED.iter().copied().filter(|c| !index.contains_key(*c)).collect();
    if !missing.is_empty() {
        bail!("line 1: missing required column(s): {}", missing.join(", "));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.context("reading the CSV file")?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let get = |column: &str| index.get(column).and_then(|&i| record.get(i)).unwrap_or_default().to_owned();
        rows.push(R::from_columns(line, &get));
    }
    Ok(rows)
}

/// Writes rows as CSV with a header row.
pub fn write_rows<R: CsvRow>(rows: &[R], output: impl io::Write) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(output);
    writer.write_record(R::COLUMNS)?;
    for row in rows {
        writer.write_record(row.to_columns())?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns_by_name_with_lines() {
        let csv = "\u{feff}name,code\n上海大区,SH\n\"杭州\n大区\",HZ\n";
        let rows: Vec<RegionRow> = read_rows(csv.as_bytes()).unwrap();
        assert_eq!(rows[0], RegionRow { line: 2, code: "SH".into(), name: "上海大区".into() });
        assert_eq!((rows[1].line, rows[1].code.as_str()), (3, "HZ"));
    }

    #[test]
    fn rejects_unknown_and_missing_columns() {
        let unknown = read_rows::<RegionRow>("code,name,colour\nSH,上海,red\n".as_bytes());
        assert!(unknown.unwrap_err().to_string().contains("unknown column \"colour\""));
        let missing = read_rows::<StoreRow>("code,name\nSH001,x\n".as_bytes());
        assert!(missing.unwrap_err().to_string().contains("region, address, lat, lng, area_m2"));
    }

    #[test]
    fn writes_what_it_reads() {
        let csv = "code,name\nSH,\"上海, 大区\"\n";
        let rows: Vec<RegionRow> = read_rows(csv.as_bytes()).unwrap();
        let mut out = Vec::new();
        write_rows(&rows, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), csv);
    }
}
