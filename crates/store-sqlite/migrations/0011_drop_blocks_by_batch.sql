-- A batch's blocks lie inside the batch's serial range, so the primary key (serial_start) already
-- finds them (`blocks` and `batch_supplies` bound their scans by `batches.serial_start/serial_end`).
-- The index cost every group commit a dirty page per block written: about 2.5 KiB of WAL and
-- checkpoint writes and 4 µs of CPU per transfer or retirement in `furrow bench workload`.
DROP INDEX blocks_by_batch;
