package main

import "github.com/plasticity-lab/plastic/models"

// The data sets generated outside package data (models' "rnn-labelled")
// are registered explicitly, here. It is a package-level variable so that
// it runs before the init functions that build the commands, whose flag
// usage lists data.Names().
var _ = registerDataSets()

func registerDataSets() bool {
	models.RegisterDataSets()
	return true
}
