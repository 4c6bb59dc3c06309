package config

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/viper"

	"roachwatch/configs"
)

// EnvPrefix is the prefix of environment overrides: redaction.key is
// ROACHWATCH_REDACTION_KEY.
const EnvPrefix = "ROACHWATCH"

// Load reads the YAML file at path (the embedded configs/local.yaml when
// path is empty), applies ROACHWATCH_* environment overrides, rejects
// unknown keys and validates. Order: defaults, then file and env, then
// decode, then validate.
func Load(path string) (Config, error) {
	v := newViper()
	if path == "" {
		if err := v.ReadConfig(bytes.NewReader(configs.Local)); err != nil {
			return Config{}, fmt.Errorf("reading embedded configs/local.yaml: %w", err)
		}
	} else {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("reading %s: %w", path, err)
		}
	}
	return decode(v, path)
}

// LoadBytes is Load for YAML held in memory (tests, embedded configs).
func LoadBytes(yaml []byte, name string) (Config, error) {
	v := newViper()
	if err := v.ReadConfig(bytes.NewReader(yaml)); err != nil {
		return Config{}, fmt.Errorf("reading %s: %w", name, err)
	}
	return decode(v, name)
}

func newViper() *viper.Viper {
	v := viper.New()
	v.SetConfigType("yaml")
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	// Every key must be known before Unmarshal, or env-only overrides are
	// silently dropped (spf13/viper#761). Each leaf key is bound to its
	// variable (run.progress: ROACHWATCH_RUN_PROGRESS) instead of
	// AutomaticEnv, under which a variable named like a section
	// (ROACHWATCH_RUN, used by our scripts for their run directory) shadows
	// every key under it.
	for _, kv := range flatten(Default()) {
		v.SetDefault(kv.key, kv.value)
		if err := v.BindEnv(kv.key); err != nil {
			panic(err) // only for an empty key: a programming error
		}
	}
	return v
}

var invalidKeys = regexp.MustCompile(`has invalid keys: (.*)`)

func decode(v *viper.Viper, name string) (Config, error) {
	var c Config
	if err := v.UnmarshalExact(&c); err != nil {
		if m := invalidKeys.FindStringSubmatch(err.Error()); m != nil {
			return Config{}, fmt.Errorf("%s: unknown key(s) %s: remove or fix them; every valid key is listed and explained in configs/roachwatch.yaml", name, m[1])
		}
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: invalid config:\n%w", name, err)
	}
	return c, nil
}

type keyValue struct {
	key   string
	value any
}

// Keys lists every config key in dotted form, sorted.
func Keys() []string {
	var out []string
	for _, kv := range flatten(Default()) {
		out = append(out, kv.key)
	}
	sort.Strings(out)
	return out
}

// flatten walks a config struct by its mapstructure tags and returns every
// leaf key with its value; maps contribute one subtree per entry.
func flatten(c any) []keyValue {
	var out []keyValue
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			t := v.Type()
			for i := 0; i < t.NumField(); i++ {
				tag := strings.Split(t.Field(i).Tag.Get("mapstructure"), ",")[0]
				if tag == "" || tag == "-" {
					continue
				}
				walk(join(prefix, tag), v.Field(i))
			}
		case reflect.Map:
			keys := v.MapKeys()
			sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
			for _, k := range keys {
				walk(join(prefix, k.String()), v.MapIndex(k))
			}
		default:
			out = append(out, keyValue{prefix, v.Interface()})
		}
	}
	walk("", reflect.ValueOf(c))
	return out
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}
