// Package tofu only pins the OpenTofu version agentctl's tests run; its
// go.mod names the tofu command as a tool (build-terraform.sh builds it).
package tofu
