package main

import (
	"context"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type testcloudProvider struct{}

func newProvider() provider.Provider { return &testcloudProvider{} }

func (p *testcloudProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "testcloud"
	resp.Version = "0.1.0"
}

func (p *testcloudProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"directory": schema.StringAttribute{
				Optional:    true,
				Description: "Directory holding the cloud's state; defaults to $TESTCLOUD_DIR.",
			},
		},
	}
}

type providerModel struct {
	Directory types.String `tfsdk:"directory"`
}

func (p *testcloudProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	dir := m.Directory.ValueString()
	if dir == "" {
		dir = os.Getenv("TESTCLOUD_DIR")
	}
	if dir == "" {
		resp.Diagnostics.AddError("testcloud: no directory",
			"set the provider's directory argument or TESTCLOUD_DIR")
		return
	}
	c := &cloud{dir: dir}
	resp.ResourceData = c
}

func (p *testcloudProvider) Resources(context.Context) []func() resource.Resource {
	var rs []func() resource.Resource
	for _, k := range kinds {
		rs = append(rs, func() resource.Resource { return &genericResource{kind: k} })
	}
	return rs
}

func (p *testcloudProvider) DataSources(context.Context) []func() datasource.DataSource {
	return nil
}
