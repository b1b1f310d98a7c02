//! A generated Verra export and the process's peak memory, for the tests that bound memory.

use std::io::Read;

/// A Verra VCU export of `rows` distinct retired blocks, generated as it is read: the file never
/// exists in memory, so the process's peak memory is the parser's.
pub struct VerraRows {
    rows: u64,
    next: u64,
    pending: Vec<u8>,
    at: usize,
}

const HEADER: &str = "Issuance Date,Sustainable Development Goals,Vintage Start,Vintage End,ID,Name,Country/Area,\
Project Type,Methodology,Total Vintage Quantity,Quantity Issued,Serial Number,Additional Certifications,\
Retirement/Cancellation Date,Retirement Beneficiary,Retirement Reason,Retirement Details\n";

impl VerraRows {
    pub fn new(rows: u64) -> Self {
        VerraRows { rows, next: 0, pending: HEADER.as_bytes().to_vec(), at: 0 }
    }

    /// Row `i`: project 1000 + i / 1000, blocks of 10 credits numbered without gaps, the vintage's
    /// published total large enough for every block.
    fn row(i: u64) -> String {
        let project = 1000 + i / 1000;
        let start = 100_000_000 + i * 10;
        let end = start + 9;
        format!(
            "2021-03-01,13: Climate Action,2020-01-01,2020-12-31,{project},Synthetic project {project},Australia,\
             Agriculture Forestry and Other Land Use,VM0042,\"10,000\",10,\
             {}-{start}-{end}-VCS-VCU-263-VER-AU-7-{project}-01012020-31122020-0,,2022-06-30,Company {},Other,synthetic\n",
            20_000 + i / 1000,
            i % 5000
        )
    }
}

impl Read for VerraRows {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.pending.len() {
            if self.next == self.rows {
                return Ok(0);
            }
            self.pending = Self::row(self.next).into_bytes();
            self.at = 0;
            self.next += 1;
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Peak resident memory of this process so far, in bytes (Linux).
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
