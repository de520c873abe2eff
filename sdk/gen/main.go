// Command gen writes the Python SDK of the enkrypt provider plugin from its package schema
// (provider/schema.json), with the Python code generator of the pinned Pulumi release: the code
// `pulumi package gen-sdk --language python` runs through the real Python language host, which this
// project cannot fetch (see scripts/pulumi-cli).
//
// With a language argument it writes the TypeScript (nodejs) or Go SDK instead, with that release's
// generator for the language, called as its language host calls it for `pulumi package add`.
//
//	go run . <schema.json> <output directory> [python|nodejs|go]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	if len(os.Args) != 3 && len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: gen <schema.json> <output directory> [python|nodejs|go]")
		os.Exit(2)
	}
	language := "python" // the default, so the Python SDK's callers need no argument
	if len(os.Args) == 4 {
		language = os.Args[3]
	}
	if err := run(os.Args[1], os.Args[2], language); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(schemaPath, out, language string) error {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	// The schema refers to no other package, so no plugin loader is needed to bind it.
	pkg, diags, err := schema.BindSpec(spec, schema.NewNullLoader(), schema.ValidationOptions{})
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return diags
	}
	files, err := generate(language, pkg)
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

// generate runs the pinned release's generator for one language. The release has no C# generator (it
// lives in pulumi-dotnet's language host): sdk/gen/dotnet runs that one.
func generate(language string, pkg *schema.Package) (map[string][]byte, error) {
	const tool = "pulumi-enkrypt-sdkgen"
	switch language {
	case "python":
		return python.GeneratePackage(tool, pkg, nil, nil)
	case "nodejs":
		// local=true: the shape `pulumi package add` writes (compiled by its postinstall script), so a
		// program can depend on the directory itself.
		return nodejs.GeneratePackage(tool, pkg, nil, nil, true, noPackages{schema.NewNullLoader()})
	case "go":
		return gogen.GeneratePackage(tool, pkg, nil)
	case "dotnet":
		return nil, fmt.Errorf("language dotnet: pulumi/pkg/v3 has no C# generator; run sdk/gen/dotnet")
	default:
		return nil, fmt.Errorf("language %q: want python, nodejs or go", language)
	}
}

// noPackages is a reference loader for a schema that depends on no other package: asked for one, it
// says so (the nodejs generator looks up the schema's dependencies, of which there are none).
type noPackages struct{ schema.Loader }

var errNoPackages = errors.New("the enkrypt schema depends on no other package")

func (noPackages) LoadPackageReference(string, *semver.Version) (schema.PackageReference, error) {
	return nil, errNoPackages
}

func (noPackages) LoadPackageReferenceV2(context.Context, *schema.PackageDescriptor) (schema.PackageReference, error) {
	return nil, errNoPackages
}
