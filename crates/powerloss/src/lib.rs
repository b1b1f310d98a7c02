//! A SQLite VFS that knows what a power cut would leave on disk.
//!
//! It wraps the platform's own VFS (so WAL, shared memory and locking behave exactly as in
//! production) and watches every main-database, journal and WAL file: a write or truncate is
//! *pending* until an `xSync` of that file makes it *durable*. [`power_cut`] then writes the files
//! as a machine losing power at that instant could have left them: the durable content, plus any
//! subset of the pending writes, in any order, some of them torn. Opening that image with the
//! ordinary VFS is what the database would see after a reboot.
//!
//! This is the "copy the files as they were at the last fsync" technique of SQLite's own crash
//! tests (`test_devsym.c`, `crash8.test`), written against the VFS interface. It needs `unsafe`:
//! a VFS is a table of C callbacks. Every callback forwards to the wrapped VFS and only
//! additionally records what it did.

use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use libsqlite3_sys as ffi;
use rand::Rng;
use rand::seq::SliceRandom;

/// The name to open a database with (`SqliteConnectOptions::vfs`) once [`register`] has run.
pub const VFS_NAME: &str = "furrow-powerloss";

/// What the power cut does to writes that were never synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsynced {
    /// All of them are lost.
    Lost,
    /// Each survives or not at random, in a random order, and a surviving write may be torn at a
    /// 512-byte sector boundary: what a disk with a volatile write cache is allowed to do.
    Scrambled,
}

/// A write or truncate the OS accepted but no sync has made durable yet.
#[derive(Debug, Clone)]
enum Pending {
    Write { offset: u64, data: Vec<u8> },
    Truncate { size: u64 },
}

impl Pending {
    fn apply_to(&self, content: &mut Vec<u8>) {
        match self {
            Self::Write { offset, data } => {
                let start = usize::try_from(*offset).expect("offset fits in memory");
                let end = start + data.len();
                if content.len() < end {
                    content.resize(end, 0);
                }
                content[start..end].copy_from_slice(data);
            }
            Self::Truncate { size } => content.resize(usize::try_from(*size).expect("size fits in memory"), 0),
        }
    }

    /// The same write cut short at a sector boundary (a truncate cannot tear).
    fn torn(&self, rng: &mut impl Rng) -> Self {
        const SECTOR: usize = 512;
        match self {
            Self::Write { offset, data } if data.len() > SECTOR => {
                let sectors = rng.random_range(0..data.len() / SECTOR);
                Self::Write { offset: *offset, data: data[..sectors * SECTOR].to_vec() }
            }
            other => other.clone(),
        }
    }
}

/// One watched file: what is on the platter, and what is only in the write cache.
#[derive(Debug, Default)]
struct FileRecord {
    durable: Vec<u8>,
    pending: Vec<Pending>,
}

fn files() -> MutexGuard<'static, HashMap<PathBuf, FileRecord>> {
    static FILES: OnceLock<Mutex<HashMap<PathBuf, FileRecord>>> = OnceLock::new();
    // A test that panicked while holding the lock leaves consistent data: every update is one
    // push or one drain.
    FILES.get_or_init(Default::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes into `out_dir` the watched files under `source_dir` as a power cut now could leave
/// them, named as they are. The shared-memory index (`-shm`) is not written: it never survives
/// a reboot, and SQLite rebuilds it from the WAL.
pub fn power_cut(source_dir: &Path, out_dir: &Path, rng: &mut impl Rng, unsynced: Unsynced) -> std::io::Result<()> {
    let images: Vec<(PathBuf, Vec<u8>)> = {
        let files = files();
        files
            .iter()
            .filter(|(path, _)| path.parent() == Some(source_dir))
            .map(|(path, record)| (path.clone(), image_of(record, rng, unsynced)))
            .collect()
    };
    std::fs::create_dir_all(out_dir)?;
    for (path, content) in images {
        let name = path.file_name().expect("a watched file has a name");
        std::fs::write(out_dir.join(name), content)?;
    }
    Ok(())
}

fn image_of(record: &FileRecord, rng: &mut impl Rng, unsynced: Unsynced) -> Vec<u8> {
    let mut content = record.durable.clone();
    if unsynced == Unsynced::Scrambled {
        let mut survivors = Vec::new();
        for op in &record.pending {
            if rng.random_bool(0.5) {
                survivors.push(if rng.random_bool(0.25) { op.torn(rng) } else { op.clone() });
            }
        }
        survivors.shuffle(rng);
        for op in &survivors {
            op.apply_to(&mut content);
        }
    }
    content
}

/// Registers the VFS under [`VFS_NAME`] (once per process; later calls do nothing). It is not
/// made the default: only connections that ask for it by name use it.
pub fn register() {
    static REGISTERED: OnceLock<()> = OnceLock::new();
    REGISTERED.get_or_init(|| {
        // SAFETY: sqlite3_vfs_find(NULL) returns the default VFS, which lives for the whole
        // process. We copy its table, replace the entry points we wrap, and leak the copy: SQLite
        // keeps the pointer for the life of the process.
        unsafe {
            let base = ffi::sqlite3_vfs_find(std::ptr::null());
            assert!(!base.is_null(), "SQLite has no default VFS");
            assert!(BASE.set(Base(base)).is_ok(), "registered once");
            let mut vfs = *base;
            vfs.pNext = std::ptr::null_mut();
            vfs.zName = CString::new(VFS_NAME).expect("no NUL").into_raw();
            vfs.szOsFile = c_int::try_from(HEADER).expect("small") + (*base).szOsFile;
            vfs.xOpen = Some(x_open);
            vfs.xDelete = Some(x_delete);
            let rc = ffi::sqlite3_vfs_register(Box::into_raw(Box::new(vfs)), 0);
            assert_eq!(rc, ffi::SQLITE_OK, "cannot register the power-loss VFS");
        }
    });
}

/// The wrapped VFS.
struct Base(*mut ffi::sqlite3_vfs);
// SAFETY: the default VFS is immutable after SQLite's initialisation and safe to call from any
// thread (SQLite is built threadsafe).
unsafe impl Send for Base {}
// SAFETY: as above.
unsafe impl Sync for Base {}
static BASE: OnceLock<Base> = OnceLock::new();

fn base() -> *mut ffi::sqlite3_vfs {
    BASE.get().expect("register() ran").0
}

/// Our part of a file handle. SQLite allocates `szOsFile` bytes for each open file: this header,
/// then the wrapped VFS's own handle right after it.
#[repr(C)]
struct WatchedFile {
    base: ffi::sqlite3_file,
    /// The watched path, or null for files we only forward (temporary files, anything unnamed).
    path: *mut PathBuf,
}

/// Header size rounded up to 8, so the wrapped handle behind it is aligned.
const HEADER: usize = std::mem::size_of::<WatchedFile>().next_multiple_of(8);

/// The wrapped handle that follows our header.
///
/// # Safety
/// `file` must point to an allocation of at least `szOsFile` bytes handed to `x_open`.
unsafe fn inner(file: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    // SAFETY: per the contract, the allocation extends HEADER bytes past `file`.
    unsafe { file.cast::<u8>().add(HEADER).cast() }
}

/// The watched path of an open file, if it is watched.
///
/// # Safety
/// `file` must be a handle opened by `x_open`.
unsafe fn watched_path(file: *mut ffi::sqlite3_file) -> Option<&'static Path> {
    // SAFETY: x_open initialised the header; the PathBuf lives until x_close.
    unsafe { (*file.cast::<WatchedFile>()).path.as_ref().map(PathBuf::as_path) }
}

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let watched = WatchedFile { base: ffi::sqlite3_file { pMethods: std::ptr::null() }, path: std::ptr::null_mut() };
    // SAFETY: SQLite passes a writable allocation of szOsFile bytes, which starts with our header
    // and continues with room for the wrapped handle; the base VFS's xOpen fills that handle.
    unsafe {
        file.cast::<WatchedFile>().write(watched);
        let rc = (*base()).xOpen.expect("xOpen")(base(), name, inner(file), flags, out_flags);
        if rc != ffi::SQLITE_OK {
            // pMethods stays null, so SQLite will not call xClose on a half-open file.
            return rc;
        }
        let durable_kinds = ffi::SQLITE_OPEN_MAIN_DB | ffi::SQLITE_OPEN_MAIN_JOURNAL | ffi::SQLITE_OPEN_WAL;
        if !name.is_null() && flags & durable_kinds != 0 {
            let path = PathBuf::from(CStr::from_ptr(name).to_string_lossy().into_owned());
            // A file that existed before anyone watched it is taken as durable as it is.
            files().entry(path.clone()).or_insert_with(|| FileRecord {
                durable: std::fs::read(&path).unwrap_or_default(),
                pending: Vec::new(),
            });
            (*file.cast::<WatchedFile>()).path = Box::into_raw(Box::new(path));
        }
        (*file).pMethods = &IO_METHODS;
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_delete(_vfs: *mut ffi::sqlite3_vfs, name: *const c_char, sync_dir: c_int) -> c_int {
    // SAFETY: forwards SQLite's own arguments to the wrapped VFS; `name` is a valid C string.
    unsafe {
        let rc = (*base()).xDelete.expect("xDelete")(base(), name, sync_dir);
        if rc == ffi::SQLITE_OK && !name.is_null() {
            // Simplification: a deleted file is gone for good, as if its directory were synced.
            files().remove(Path::new(&*CStr::from_ptr(name).to_string_lossy()));
        }
        rc
    }
}

/// Calls the wrapped handle's method `$method` with the wrapped handle and `$args`.
macro_rules! forward {
    ($file:expr, $method:ident $(, $arg:expr)*) => {
        // SAFETY (for every caller): `$file` was opened by x_open, so its wrapped handle is open
        // and carries the wrapped VFS's methods table; the arguments are SQLite's own.
        unsafe {
            let inner = inner($file);
            match (*(*inner).pMethods).$method {
                Some(method) => method(inner $(, $arg)*),
                None => ffi::SQLITE_IOERR,
            }
        }
    };
}

static IO_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_unlock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: Some(x_shm_map),
    xShmLock: Some(x_shm_lock),
    xShmBarrier: Some(x_shm_barrier),
    xShmUnmap: Some(x_shm_unmap),
    xFetch: Some(x_fetch),
    xUnfetch: Some(x_unfetch),
};

unsafe extern "C" fn x_close(file: *mut ffi::sqlite3_file) -> c_int {
    let rc = forward!(file, xClose);
    // SAFETY: the path was boxed by x_open and is freed exactly once, here.
    unsafe {
        let watched = file.cast::<WatchedFile>();
        if !(*watched).path.is_null() {
            drop(Box::from_raw((*watched).path));
            (*watched).path = std::ptr::null_mut();
        }
    }
    rc
}

unsafe extern "C" fn x_write(file: *mut ffi::sqlite3_file, buf: *const c_void, amount: c_int, offset: i64) -> c_int {
    let rc = forward!(file, xWrite, buf, amount, offset);
    // SAFETY: `file` came from x_open.
    if let (ffi::SQLITE_OK, Some(path)) = (rc, unsafe { watched_path(file) }) {
        let len = usize::try_from(amount).unwrap_or(0);
        // SAFETY: SQLite guarantees `buf` holds `amount` readable bytes for this call.
        let data = unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) }.to_vec();
        let offset = u64::try_from(offset).unwrap_or(0);
        record(path, Pending::Write { offset, data });
    }
    rc
}

unsafe extern "C" fn x_truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    let rc = forward!(file, xTruncate, size);
    // SAFETY: `file` came from x_open.
    if let (ffi::SQLITE_OK, Some(path)) = (rc, unsafe { watched_path(file) }) {
        record(path, Pending::Truncate { size: u64::try_from(size).unwrap_or(0) });
    }
    rc
}

unsafe extern "C" fn x_sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    let rc = forward!(file, xSync, flags);
    // SAFETY: `file` came from x_open.
    if let (ffi::SQLITE_OK, Some(path)) = (rc, unsafe { watched_path(file) }) {
        // Made durable before xSync returns, so before SQLite can report the commit.
        if let Some(record) = files().get_mut(path) {
            for op in std::mem::take(&mut record.pending) {
                op.apply_to(&mut record.durable);
            }
        }
    }
    rc
}

fn record(path: &Path, op: Pending) {
    if let Some(record) = files().get_mut(path) {
        record.pending.push(op);
    }
}

unsafe extern "C" fn x_read(file: *mut ffi::sqlite3_file, buf: *mut c_void, amount: c_int, offset: i64) -> c_int {
    forward!(file, xRead, buf, amount, offset)
}

unsafe extern "C" fn x_file_size(file: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    forward!(file, xFileSize, size)
}

unsafe extern "C" fn x_lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    forward!(file, xLock, level)
}

unsafe extern "C" fn x_unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    forward!(file, xUnlock, level)
}

unsafe extern "C" fn x_check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    forward!(file, xCheckReservedLock, out)
}

unsafe extern "C" fn x_file_control(file: *mut ffi::sqlite3_file, op: c_int, arg: *mut c_void) -> c_int {
    forward!(file, xFileControl, op, arg)
}

unsafe extern "C" fn x_sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: `file` came from x_open.
    match unsafe { (*(*inner(file)).pMethods).xSectorSize } {
        // SAFETY: as above.
        Some(method) => unsafe { method(inner(file)) },
        None => 512,
    }
}

unsafe extern "C" fn x_device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: `file` came from x_open.
    match unsafe { (*(*inner(file)).pMethods).xDeviceCharacteristics } {
        // SAFETY: as above.
        Some(method) => unsafe { method(inner(file)) },
        None => 0,
    }
}

unsafe extern "C" fn x_shm_map(
    file: *mut ffi::sqlite3_file,
    page: c_int,
    page_size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    forward!(file, xShmMap, page, page_size, extend, out)
}

unsafe extern "C" fn x_shm_lock(file: *mut ffi::sqlite3_file, offset: c_int, n: c_int, flags: c_int) -> c_int {
    forward!(file, xShmLock, offset, n, flags)
}

unsafe extern "C" fn x_shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: `file` came from x_open.
    if let Some(method) = unsafe { (*(*inner(file)).pMethods).xShmBarrier } {
        // SAFETY: as above.
        unsafe { method(inner(file)) }
    }
}

unsafe extern "C" fn x_shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    forward!(file, xShmUnmap, delete)
}

unsafe extern "C" fn x_fetch(file: *mut ffi::sqlite3_file, offset: i64, amount: c_int, out: *mut *mut c_void) -> c_int {
    // Memory-mapped reads would bypass nothing we watch (writes still go through xWrite), but
    // refusing them keeps every byte SQLite sees on the path we forward.
    // SAFETY: SQLite passes a valid out pointer; a null result means "use xRead".
    unsafe { *out = std::ptr::null_mut() };
    let _ = (file, offset, amount);
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_unfetch(_file: *mut ffi::sqlite3_file, _offset: i64, _page: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_writes_extend_overwrite_and_truncate() {
        let mut content = b"abcdef".to_vec();
        Pending::Write { offset: 4, data: b"XYZ".to_vec() }.apply_to(&mut content);
        assert_eq!(content, b"abcdXYZ");
        Pending::Truncate { size: 2 }.apply_to(&mut content);
        assert_eq!(content, b"ab");
    }

    #[test]
    fn a_torn_write_keeps_whole_sectors_only() {
        let mut rng = rand::rng();
        let write = Pending::Write { offset: 0, data: vec![7; 4096] };
        for _ in 0..100 {
            let Pending::Write { data, .. } = write.torn(&mut rng) else { panic!("a write stays a write") };
            assert!(data.len() % 512 == 0 && data.len() < 4096);
        }
    }
}
