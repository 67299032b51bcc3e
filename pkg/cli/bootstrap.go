package cli

import (
	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/credentials"
)

type bootstrapKubernetesOptions struct {
	f               *Factory
	namespace       string
	prefix          string
	readUsers       []string
	deployUsers     []string
	brokerUsers     []string
	extraReadGroups []string
}

func newBootstrapCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Print least-privilege access for agentctl's identities",
	}
	cmd.AddCommand(newBootstrapKubernetesCmd(f))
	return cmd
}

func newBootstrapKubernetesCmd(f *Factory) *cobra.Command {
	o := &bootstrapKubernetesOptions{f: f}
	cmd := &cobra.Command{
		Use:   "kubernetes [--namespace NS]",
		Short: "Print RBAC for the read, deploy and broker identities",
		Long: `Print Kubernetes RBAC, as YAML, for agentctl's identities:

  PREFIX-read    ClusterRole: get, list, watch on everything except Secrets,
                 and no exec, attach, portforward, proxy or token subresources
  PREFIX-deploy  Role in NS: change workloads, services and config maps;
                 no Secrets, no RBAC
  PREFIX-broker  Role in NS: create tokens for PREFIX-deploy only

with a ServiceAccount each in NS. Even if agentctl's classifier were fooled,
the read identity cannot read a Secret.

Applying it changes who may do what, so it goes through approval like any
privilege change:

  agentctl bootstrap kubernetes --namespace apps | agentctl kubectl apply -f -

Custom resources are not readable until their API groups are named with
--read-group.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return bootstrapKubernetesRun(o)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.namespace, "namespace", "n", "default", "namespace of the ServiceAccounts and of the deploy Role")
	fl.StringVar(&o.prefix, "prefix", "agentctl", "prefix of the object names")
	fl.StringSliceVar(&o.readUsers, "read-user", nil, "also bind this cluster user to the read role")
	fl.StringSliceVar(&o.deployUsers, "deploy-user", nil, "also bind this cluster user to the deploy role")
	fl.StringSliceVar(&o.brokerUsers, "broker-user", nil, "also bind this cluster user to the broker role")
	fl.StringSliceVar(&o.extraReadGroups, "read-group", nil, "an extra API group (of custom resources) the read identity may read")
	return cmd
}

func bootstrapKubernetesRun(o *bootstrapKubernetesOptions) error {
	y, err := credentials.KubernetesRBAC(credentials.RBACOptions{
		Namespace: o.namespace, Prefix: o.prefix,
		ReadUsers: o.readUsers, DeployUsers: o.deployUsers, BrokerUsers: o.brokerUsers,
		ExtraReadGroups: o.extraReadGroups,
	})
	if err != nil {
		return err
	}
	_, err = o.f.IO.Out.Write(y)
	return err
}
