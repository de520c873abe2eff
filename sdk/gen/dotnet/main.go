// Command dotnet writes the C# SDK of the enkrypt provider plugin from its package schema, with the C#
// generator of pulumi-dotnet's language host: the code `pulumi package gen-sdk --language dotnet` runs.
//
// It is a module of its own because that generator is built against an older pulumi/pkg than the one
// sdk/gen pins (its packages moved since), and Go allows one version of a module per build.
//
//	go run . <schema.json> <output directory>
package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	dotnet "github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3/codegen"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// The generator downloads the package's logo (the schema's logoUrl, or Pulumi's) into the SDK; there is
// no network here and an SDK must not depend on one, so every request it makes gets this file instead.
//
//go:embed logo.png
var logo []byte

type logoOnly struct{}

func (logoOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Request: req, Header: http.Header{"Content-Type": {"image/png"}},
		Body: io.NopCloser(bytes.NewReader(logo)), ContentLength: int64(len(logo)),
	}, nil
}

func main() {
	http.DefaultClient.Transport = logoOnly{}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: dotnet <schema.json> <output directory>")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "gen dotnet:", err)
		os.Exit(1)
	}
}

func run(schemaPath, out string) error {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	pkg, diags, err := schema.BindSpec(spec, nil, schema.ValidationOptions{}) // no other package is referenced: no loader
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return diags
	}
	files, err := dotnet.GeneratePackage("pulumi-enkrypt-sdkgen", pkg, nil, nil)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	for name, data := range files {
		path := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
