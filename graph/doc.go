// Package graph is the glue between this toolkit and Gorgonia: helpers to
// build and run expression graphs, and the custom ops of the plasticity
// models (the k-cap, firing codes and rule lookup/update).
package graph
