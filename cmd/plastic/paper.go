package main

import "github.com/urfave/cli/v2"

// The `paper` command groups one subcommand per result of the papers
// (`plastic paper evolve`, ...). Files that add one call registerPaper from
// their init function:
//
//	func init() { registerPaper(&cli.Command{Name: "fig2", ...}) }
//
// registerPaper appends to paperCommands and keeps the registered `paper`
// command's Subcommands in step with it, whatever order the files' init
// functions run in (a plain append to paperCommands from a file whose
// init runs after this one would not be seen; TestPaperCommandsRegistered
// catches that).
var paperCommands []*cli.Command

// paperCommand is the `paper` group itself, registered by this file's init.
var paperCommand = &cli.Command{
	Name:  "paper",
	Usage: "reproduce the papers' results, one subcommand per figure, table or appendix",
	Description: "Each subcommand writes its numbers (CSV/JSON) and figures (PNG+SVG) into a\n" +
		"run folder under --out. See `plastic paper COMMAND --help`.",
}

// registerPaper adds a subcommand to `plastic paper`.
func registerPaper(c *cli.Command) {
	paperCommands = append(paperCommands, c)
	paperCommand.Subcommands = paperCommands
}

func init() {
	paperCommand.Subcommands = paperCommands
	register(paperCommand)
}
