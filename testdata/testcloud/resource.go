package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// kind describes one resource type: its attributes (all strings) and
// which of them force a replacement.
type kind struct {
	name     string // type name without the provider prefix
	required []string
	optional []string
	replace  map[string]bool
}

var kinds = []kind{
	{name: "instance", required: []string{"name"}, optional: []string{"size", "image"},
		replace: map[string]bool{"name": true, "image": true}},
	{name: "iam_role", required: []string{"name"}, optional: []string{"policy"},
		replace: map[string]bool{"name": true}},
	{name: "iam_policy_attachment", required: []string{"name", "role", "policy_arn"},
		replace: map[string]bool{"name": true}},
	{name: "firewall_rule", required: []string{"name"}, optional: []string{"cidr", "port"},
		replace: map[string]bool{"name": true}},
}

func (k kind) attrs() []string { return append(append([]string{}, k.required...), k.optional...) }

// cloud is the provider's configured state directory.
type cloud struct{ dir string }

func (c *cloud) file(k kind, name string) string {
	return filepath.Join(c.dir, k.name, name+".json")
}

type genericResource struct {
	kind  kind
	cloud *cloud
}

func (r *genericResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + r.kind.name
}

func (r *genericResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	attrs := map[string]schema.Attribute{
		"id": schema.StringAttribute{Computed: true,
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
	}
	for _, a := range r.kind.attrs() {
		s := schema.StringAttribute{Optional: true}
		for _, req := range r.kind.required {
			if req == a {
				s = schema.StringAttribute{Required: true}
			}
		}
		if r.kind.replace[a] {
			s.PlanModifiers = []planmodifier.String{stringplanmodifier.RequiresReplace()}
		}
		attrs[a] = s
	}
	resp.Schema = schema.Schema{Attributes: attrs}
}

func (r *genericResource) Configure(_ context.Context, req resource.ConfigureRequest, _ *resource.ConfigureResponse) {
	if c, ok := req.ProviderData.(*cloud); ok {
		r.cloud = c
	}
}

func (r *genericResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	vals, err := r.values(ctx, req.Plan.GetAttribute)
	if err == nil {
		err = r.write(vals)
	}
	if err != nil {
		resp.Diagnostics.AddError("testcloud: create", err.Error())
		return
	}
	resp.State.Raw = req.Plan.Raw
	resp.State.SetAttribute(ctx, path.Root("id"), vals["name"])
}

func (r *genericResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	vals, err := r.values(ctx, req.Plan.GetAttribute)
	if err == nil {
		err = r.write(vals)
	}
	if err != nil {
		resp.Diagnostics.AddError("testcloud: update", err.Error())
		return
	}
	resp.State.Raw = req.Plan.Raw
	resp.State.SetAttribute(ctx, path.Root("id"), vals["name"])
}

func (r *genericResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var name types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("name"), &name)...)
	b, err := os.ReadFile(r.cloud.file(r.kind, name.ValueString()))
	if errors.Is(err, os.ErrNotExist) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("testcloud: read", err.Error())
		return
	}
	vals := map[string]*string{}
	if err := json.Unmarshal(b, &vals); err != nil {
		resp.Diagnostics.AddError("testcloud: read", err.Error())
		return
	}
	for _, a := range r.kind.attrs() {
		resp.State.SetAttribute(ctx, path.Root(a), types.StringPointerValue(vals[a]))
	}
}

func (r *genericResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var name types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("name"), &name)...)
	err := os.Remove(r.cloud.file(r.kind, name.ValueString()))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		resp.Diagnostics.AddError("testcloud: delete", err.Error())
	}
}

func (r *genericResource) values(ctx context.Context, get func(context.Context, path.Path, interface{}) diag.Diagnostics) (map[string]*string, error) {
	vals := map[string]*string{}
	for _, a := range r.kind.attrs() {
		var v types.String
		if d := get(ctx, path.Root(a), &v); d.HasError() {
			return nil, fmt.Errorf("attribute %q: %v", a, d)
		}
		vals[a] = v.ValueStringPointer()
	}
	if vals["name"] == nil || *vals["name"] == "" {
		return nil, errors.New("name is empty")
	}
	return vals, nil
}

func (r *genericResource) write(vals map[string]*string) error {
	f := r.cloud.file(r.kind, *vals["name"])
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(vals, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(f, append(b, '\n'), 0o644)
}
