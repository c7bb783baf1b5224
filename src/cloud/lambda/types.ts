/**
 * The Lambda Cloud API objects we use, as the public API v1 (OpenAPI spec 1.8.3) sends them.
 * Only the fields we read are listed; the API may send more.
 */

export interface Region {
  name: string;
  description: string;
}

export interface InstanceTypeSpecs {
  vcpus: number;
  memory_gib: number;
  storage_gib: number;
  gpus: number;
}

export interface InstanceType {
  name: string;
  description: string;
  gpu_description: string;
  price_cents_per_hour: number;
  specs: InstanceTypeSpecs;
}

/** One entry of GET /instance-types, flattened: the type and where it can be launched now. */
export interface InstanceTypeOffer extends InstanceType {
  regions_with_capacity_available: Region[];
}

export type InstanceStatus =
  | "booting"
  | "active"
  | "unhealthy"
  | "terminating"
  | "terminated"
  | "preempted";

export interface Tag {
  key: string;
  value: string;
}

export interface Instance {
  id: string;
  /** Absent for instances launched from the web console without a name. */
  name?: string | null;
  /** Null or absent while booting (and sometimes after an internal error). */
  ip?: string | null;
  private_ip?: string | null;
  status: InstanceStatus;
  ssh_key_names: string[];
  file_system_names: string[];
  region: Region;
  instance_type: InstanceType;
  hostname?: string | null;
  jupyter_url?: string | null;
  tags?: Tag[];
}

export interface SshKey {
  id: string;
  name: string;
  public_key: string;
}

/** POST /ssh-keys without a public key: Lambda generates a pair and returns the private half once. */
export interface AddedSshKey extends SshKey {
  private_key?: string;
}

export interface LaunchRequest {
  region_name: string;
  instance_type_name: string;
  /** Exactly one key name: the API refuses more or fewer. */
  ssh_key_names: [string];
  /** At most 64 characters. */
  name?: string;
  file_system_names?: string[];
  image?: { id: string } | { family: string };
  user_data?: string;
  tags?: Tag[];
}
