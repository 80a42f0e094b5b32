import PageModel

/// Reading the page state of real machines: live /proc files, saved raw directories,
/// bare kpageflags dumps and Memdesc's own snapshot files.
public enum SnapshotModule {}
