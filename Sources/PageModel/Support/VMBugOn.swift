/// Kernel-style invariant check, compiled in only when `PAGEMODEL_DEBUG_VM` is defined
/// (debug builds and therefore tests), and to nothing in release builds.
///
/// Kernel: `VM_BUG_ON()` under `CONFIG_DEBUG_VM` (include/linux/mmdebug.h).
@inlinable @inline(__always)
func vmBugOn(
  _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String = "",
  file: StaticString = #fileID, line: UInt = #line
) {
  #if PAGEMODEL_DEBUG_VM
    if condition() { fatalError("VM_BUG_ON: \(message())", file: file, line: line) }
  #endif
}

/// Whether `VM_BUG_ON` checks are compiled into this build.
public let debugVMEnabled: Bool = {
  #if PAGEMODEL_DEBUG_VM
    return true
  #else
    return false
  #endif
}()
