// Command sdkcheck is a small Go program on the generated Go SDK (sdk/go), built by
// tests/plugin/test_sdks_compile.py: its go.mod pins the Pulumi Go SDK release the CLI is built from
// (v3.259.0) and points the enkrypt SDK at the repository's sdk/go, so `go build` proves the generated
// SDK compiles against that release and can be used from a program.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"example.com/pulumi-enkrypt/sdk/go/enkrypt"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		model, err := enkrypt.NewModel(ctx, "support-bot", &enkrypt.ModelArgs{
			Model_saved_name: pulumi.String("Acme Support Bot"),
			Model_version:    pulumi.String("v1"),
			Model_config: enkrypt.ModelConfigArgs{
				Model_provider: pulumi.String("openai"),
				Endpoint: enkrypt.EndpointArgs{
					Scheme: pulumi.String("https"), Host: pulumi.String("api.openai.com"),
					Port: pulumi.Int(443), Base_path: pulumi.String("/v1"),
				},
				Apikeys: pulumi.StringArray{cfg.RequireSecret("openaiKey")},
			},
		})
		if err != nil {
			return err
		}
		policy, err := enkrypt.NewGuardrailsPolicy(ctx, "support-policy", &enkrypt.GuardrailsPolicyArgs{
			Name: pulumi.String("Acme Support Policy"),
			Detectors: enkrypt.DetectorsArgs{
				Pii: enkrypt.PiiDetectorArgs{Enabled: pulumi.Bool(true), Entities: pulumi.ToStringArray([]string{"pii"})},
			},
		})
		if err != nil {
			return err
		}
		deployment, err := enkrypt.NewDeployment(ctx, "support", &enkrypt.DeploymentArgs{
			Name:             pulumi.String("support-prod"),
			Model_saved_name: model.Model_saved_name,
			Model_version:    model.Model_version,
			Input_guardrails_policy: enkrypt.InputGuardrailsPolicyArgs{
				Policy_name: policy.Name, Enabled: pulumi.Bool(true), Block: pulumi.ToStringArray([]string{"pii"}),
			},
			Output_guardrails_policy: enkrypt.OutputGuardrailsPolicyArgs{
				Policy_name: policy.Name, Enabled: pulumi.Bool(true),
			},
		})
		if err != nil {
			return err
		}
		ctx.Export("deploymentId", deployment.Deployment_id)
		return nil
	})
}
