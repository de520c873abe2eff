// Tools module for the real Python language host (built by scripts/pulumi-cli when the proxy serves it).
// The host has no tags of its own: it is addressed by the pseudo-version of the sdk/v3.259.0 tag commit.
// Its own go.mod points pkg/v3 and sdk/v3 at relative paths, which Go ignores in a dependency, so pin them here.
module github.com/pulumi-enkrypt/tools/pulumi-language-python

go 1.25.11

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e

replace golang.org/x/text => golang.org/x/text v0.39.0

tool github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3

require (
	github.com/pulumi/pulumi/pkg/v3 v3.259.0
	github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 v3.0.0-20260819165155-0ac56e876614
	github.com/pulumi/pulumi/sdk/v3 v3.259.0
)
