import Render
import Testing

/// The one number format of text and report: separators, two-decimal binary sizes and
/// percentages.
@Suite struct NumberFormatTests {
  @Test func formats() {
    #expect(Fmt.group(0) == "0" && Fmt.group(999) == "999" && Fmt.group(1_234_567) == "1,234,567" && Fmt.group(-4096) == "-4,096")
    #expect(Fmt.bytes(0) == "0 B" && Fmt.bytes(1023) == "1023 B" && Fmt.bytes(1024) == "1.00 KiB")
    #expect(Fmt.bytes(384 << 20) == "384.00 MiB" && Fmt.bytes(24 << 30) == "24.00 GiB" && Fmt.bytes(366_231_552) == "349.27 MiB")
    #expect(Fmt.bytes(1 << 40) == "1.00 TiB")
    #expect(Fmt.percent(1.5625) == "1.56 %" && Fmt.percent(0.2003) == "0.20 %" && Fmt.percentValue(100) == "100.00")
  }
}
