package s3

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gale-stream/gale/sinks"
)

// credentialsRefresh is how long credentials are used before they are read
// again (from the environment or the file), so that rotated keys are taken
// up without a restart.
const credentialsRefresh = time.Minute

// credentialSource reads the credentials from the environment variables or
// the credentials file the config names. Its errors name where it looked,
// never a value.
type credentialSource struct {
	accessEnv, secretEnv, tokenEnv string
	file, profile                  string
}

func (c *Config) credentialSource() credentialSource {
	s := credentialSource{accessEnv: c.AccessKeyEnv, secretEnv: c.SecretKeyEnv, tokenEnv: c.SessionTokenEnv,
		file: c.CredentialsFile, profile: c.CredentialsProfile}
	if s.accessEnv == "" {
		s.accessEnv = DefaultAccessKeyEnv
	}
	if s.secretEnv == "" {
		s.secretEnv = DefaultSecretKeyEnv
	}
	if s.tokenEnv == "" {
		s.tokenEnv = DefaultSessionTokenEnv
	}
	if s.profile == "" {
		s.profile = DefaultProfile
	}
	return s
}

// Retrieve implements aws.CredentialsProvider.
func (s credentialSource) Retrieve(context.Context) (aws.Credentials, error) {
	var cr aws.Credentials
	if s.file != "" {
		keys, err := readCredentialsFile(s.file, s.profile)
		if err != nil {
			return cr, err
		}
		cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken = keys["aws_access_key_id"], keys["aws_secret_access_key"], keys["aws_session_token"]
		cr.Source = "s3_sink credentials_file"
		if cr.AccessKeyID == "" || cr.SecretAccessKey == "" {
			return cr, fmt.Errorf("credentials_file %s: section [%s] lacks aws_access_key_id or aws_secret_access_key: %w", s.file, s.profile, sinks.ErrConfig)
		}
	} else {
		cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken = os.Getenv(s.accessEnv), os.Getenv(s.secretEnv), os.Getenv(s.tokenEnv)
		cr.Source = "s3_sink environment"
		for _, v := range []struct{ name, val string }{{s.accessEnv, cr.AccessKeyID}, {s.secretEnv, cr.SecretAccessKey}} {
			if v.val == "" {
				return cr, fmt.Errorf("credentials: $%s is not set (the access key goes in $%s and the secret key in $%s, or in a credentials_file): %w",
					v.name, s.accessEnv, s.secretEnv, sinks.ErrConfig)
			}
		}
	}
	cr.CanExpire, cr.Expires = true, time.Now().Add(credentialsRefresh)
	return cr, nil
}

// readCredentialsFile returns the keys of section profile of an AWS shared
// credentials file: "[name]" (or "[profile name]") sections of "key =
// value" lines, "#" and ";" comments. Keys are lowercased.
func readCredentialsFile(file, profile string) (map[string]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("credentials_file: %w", err)
	}
	var keys map[string]string
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("credentials_file %s: line %d: a section header without ']': %w", file, n, sinks.ErrConfig)
			}
			section = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line[1:len(line)-1]), "profile "))
			if section == profile && keys == nil {
				keys = map[string]string{}
			}
			continue
		}
		if section != profile {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			// the line is not shown: it may be a key
			return nil, fmt.Errorf("credentials_file %s: line %d: want key = value: %w", file, n, sinks.ErrConfig)
		}
		keys[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("credentials_file %s: %w", file, err)
	}
	if keys == nil {
		return nil, fmt.Errorf("credentials_file %s: no [%s] section: %w", file, profile, sinks.ErrConfig)
	}
	return keys, nil
}
