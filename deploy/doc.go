// Package deploy holds calletl's deployment files: the Dockerfile and the
// Kubernetes manifests under kubernetes/ (a CronJob running the nightly job
// as an Indexed Job, one shard per index). It has no code; its tests decode
// the manifests strictly into the Kubernetes API types, check how they are
// wired to etl.yaml and the Secret, and check the Dockerfile's stages.
package deploy
