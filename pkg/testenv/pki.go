package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Users of the test cluster, authenticated by static tokens.
const (
	UserAdmin    = "admin"    // in system:masters
	UserReader   = "reader"   // no permissions until a test binds some
	UserDeployer = "deployer" // no permissions until a test binds some
	UserBroker   = "broker"   // no permissions until a test binds some
)

// Users lists every user the cluster knows, admin first.
func Users() []string {
	return []string{UserAdmin, UserReader, UserDeployer, UserBroker}
}

// The identities of a converging cluster's components (see
// [StartConverging]). They are not in [Users]: tests act as users.
const (
	// kube-controller-manager runs every controller with its own
	// credentials (--use-service-account-credentials=false), so it needs
	// what all of them may do together: system:masters.
	userControllerManager = "system:kube-controller-manager"
	// The default RBAC policy binds system:kube-scheduler its roles.
	userScheduler = "system:kube-scheduler"
	// kwok writes nodes, leases and pod status: system:masters.
	userKwok = "kwok"
)

// pki is the key material one cluster is started with, all in dir.
type pki struct {
	caPEM     []byte            // CA that signed the serving certificate
	caFile    string            // caPEM in a file
	certFile  string            // serving certificate
	keyFile   string            // serving key
	saKeyFile string            // service-account signing key (private; the public half is derived)
	tokenFile string            // static token CSV
	tokens    map[string]string // user -> bearer token
}

// newPKI generates a CA, a serving certificate for 127.0.0.1 and localhost,
// a service-account signing key and one random token per user.
func newPKI(dir string) (*pki, error) {
	p := &pki{
		caFile:    filepath.Join(dir, "ca.crt"),
		certFile:  filepath.Join(dir, "serving.crt"),
		keyFile:   filepath.Join(dir, "serving.key"),
		saKeyFile: filepath.Join(dir, "sa.key"),
		tokenFile: filepath.Join(dir, "tokens.csv"),
		tokens:    map[string]string{},
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "agentctl-testenv-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	if err := os.WriteFile(p.caFile, p.caPEM, 0o600); err != nil {
		return nil, err
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeKey(p.keyFile, key); err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.certFile, append(cert, p.caPEM...), 0o600); err != nil {
		return nil, err
	}

	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if err := writeKey(p.saKeyFile, saKey); err != nil {
		return nil, err
	}

	var csv strings.Builder
	users := append(Users(), userControllerManager, userScheduler, userKwok)
	for i, user := range users {
		buf := make([]byte, 24)
		if _, err := rand.Read(buf); err != nil {
			return nil, err
		}
		token := hex.EncodeToString(buf)
		p.tokens[user] = token
		groups := ""
		switch user {
		case UserAdmin, userControllerManager, userKwok:
			groups = "system:masters"
		}
		fmt.Fprintf(&csv, "%s,%s,uid-%d,%q\n", token, user, i, groups)
	}
	if err := os.WriteFile(p.tokenFile, []byte(csv.String()), 0o600); err != nil {
		return nil, err
	}
	return p, nil
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}
