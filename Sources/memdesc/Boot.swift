import ArgumentParser
import PageModel
import Render

extension Memdesc {
  struct Boot: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Boot a model machine and print its census: memmap frames, zones, free pages.")

    @OptionGroup var machine: MachineOptions

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func run() throws {
      let config = try machine.config()
      let census = try bootModel(config).census()
      switch format {
      case .json: print(try BootOutput.json(census))
      case .text: print(BootOutput.text(census))
      }
    }
  }
}
