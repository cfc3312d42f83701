import { z } from "zod";

/**
 * The one set of shapes kopi-docka reads from `docker … inspect`. Only the fields some code reads are
 * declared; every other field is kept (loose objects). Container and network inspect objects are written
 * into recipes as docker printed them, so their schemas validate without rewriting anything: no
 * defaults, no transforms, `nullish` where docker writes `null` for an empty map or list. Volume and
 * image inspect are only read, and their empty maps and lists come out as `{}` and `[]`.
 */
const stringMap = z.record(z.string(), z.string());
const stringList = z.array(z.string());
const emptyMap = stringMap.nullish().transform((v) => v ?? {});
const emptyList = stringList.nullish().transform((v) => v ?? []);

/** `State` of a container inspect; also what `docker inspect --format '{{json .State}}'` prints. */
export const ContainerStateSchema = z.looseObject({
  Status: z.string(),
  Running: z.boolean(),
  Paused: z.boolean().optional(),
  Restarting: z.boolean().optional(),
  StartedAt: z.string().optional(),
  FinishedAt: z.string().optional(),
  ExitCode: z.number().optional(),
  Health: z.looseObject({ Status: z.string().optional() }).nullish(),
});
export type ContainerState = z.infer<typeof ContainerStateSchema>;

export const MountSchema = z.looseObject({
  Type: z.string().optional(),
  Name: z.string().optional(),
  Source: z.string().optional(),
  Destination: z.string(),
  RW: z.boolean().optional(),
});
export type Mount = z.infer<typeof MountSchema>;

const PortBindingSchema = z.looseObject({ HostIp: z.string().optional(), HostPort: z.string().optional() });

export const ContainerInspectSchema = z.looseObject({
  Id: z.string(),
  Name: z.string(),
  /** The image id the container runs (`sha256:…`); `Config.Image` is the name it was created from. */
  Image: z.string(),
  State: ContainerStateSchema,
  /** How often its restart policy has started it again since its last `docker start`. */
  RestartCount: z.number().optional(),
  Config: z.looseObject({
    Image: z.string(),
    Labels: stringMap.nullish(),
    Env: stringList.nullish(),
    Cmd: stringList.nullish(),
    Entrypoint: stringList.nullish(),
    User: z.string().optional(),
    WorkingDir: z.string().optional(),
    StopTimeout: z.number().nullish(),
    Healthcheck: z.looseObject({ Test: stringList.nullish() }).nullish(),
  }),
  HostConfig: z
    .looseObject({
      RestartPolicy: z
        .looseObject({ Name: z.string().optional(), MaximumRetryCount: z.number().optional() })
        .nullish(),
      Tmpfs: stringMap.nullish(),
      PortBindings: z.record(z.string(), z.array(PortBindingSchema).nullish()).nullish(),
      NetworkMode: z.string().optional(),
      /** `--volumes-from` / `volumes_from`: each `container[:ro|:rw]`, as given (compose v1: an id). */
      VolumesFrom: stringList.nullish(),
      /** `docker run --rm`: docker deletes the container, and its anonymous volumes, once it stops. */
      AutoRemove: z.boolean().optional(),
      Privileged: z.boolean().optional(),
      CapAdd: stringList.nullish(),
      CapDrop: stringList.nullish(),
    })
    .nullish(),
  Mounts: z.array(MountSchema).nullish(),
  NetworkSettings: z.looseObject({ Networks: z.record(z.string(), z.unknown()).nullish() }).nullish(),
});
export type ContainerInspect = z.infer<typeof ContainerInspectSchema>;

export const VolumeInspectSchema = z.looseObject({
  Name: z.string(),
  Driver: z.string(),
  Mountpoint: z.string(),
  Options: emptyMap,
  Labels: emptyMap,
  Scope: z.string().optional(),
});
export type VolumeInspect = z.infer<typeof VolumeInspectSchema>;

const IpamConfigSchema = z.looseObject({
  Subnet: z.string().optional(),
  Gateway: z.string().optional(),
  IPRange: z.string().optional(),
  AuxiliaryAddresses: stringMap.nullish(),
});

export const NetworkInspectSchema = z.looseObject({
  Name: z.string(),
  Id: z.string(),
  Driver: z.string(),
  IPAM: z
    .looseObject({ Driver: z.string().optional(), Config: z.array(IpamConfigSchema).nullish() })
    .nullish(),
  Internal: z.boolean().optional(),
  Attachable: z.boolean().optional(),
  EnableIPv6: z.boolean().optional(),
  Labels: stringMap.nullish(),
  Options: stringMap.nullish(),
  /** Attached containers by id; only `network inspect` of a live network fills it. */
  Containers: z.record(z.string(), z.looseObject({ Name: z.string().optional() })).nullish(),
});
export type NetworkInspect = z.infer<typeof NetworkInspectSchema>;

export const ImageInspectSchema = z.looseObject({
  Id: z.string(),
  RepoDigests: emptyList,
  /** The image's own labels: a container inherits them, so `kopi-docka.*` ones are not the host's choice. */
  Config: z
    .looseObject({ Labels: emptyMap })
    .nullish()
    .transform((v) => v ?? { Labels: {} }),
});
export type ImageInspect = z.infer<typeof ImageInspectSchema>;

export const VersionSchema = z.looseObject({
  Client: z.looseObject({ Version: z.string(), ApiVersion: z.string().optional() }).nullish(),
  Server: z.looseObject({ Version: z.string(), ApiVersion: z.string().optional() }).nullish(),
});
