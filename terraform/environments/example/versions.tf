terraform {
  required_version = ">= 1.6.0"

  required_providers {
    keycloak = {
      source  = "keycloak/keycloak"
      version = "~> 5.5"
    }
    minio = {
      source  = "aminueza/minio"
      version = "~> 3.3"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 3.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.36"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # The state holds every generated secret: keep it in an encrypted, access-controlled backend
  # of the ICT center (terraform/README.md). Example:
  # backend "s3" {
  #   bucket = "ict-terraform-state"
  #   key    = "qlvb/example-province.tfstate"
  #   ...
  # }
}
