import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { AUTH_POLICY, type AuthPolicy } from '../../src/common/auth/auth.decorators';

export interface RouteInfo {
  method: string;
  path: string;
  policy: AuthPolicy | null;
}

const GLOBAL_PREFIX_EXCLUDED = new Set(['/health/live', '/health/ready']);

function join(...parts: string[]): string {
  const path = `/${parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/')}`;
  return path.replace(/:(\w+)/g, '{$1}');
}

/** Every HTTP route of the application with the access policy the guard will read, from the controllers' metadata. */
export function listRoutes(app: INestApplication): RouteInfo[] {
  const routes: RouteInfo[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: unknown[]) => unknown) | null;
      if (!controller) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      const classPolicy = Reflect.getMetadata(AUTH_POLICY, controller) as AuthPolicy | undefined;
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const path = join(base, String(Reflect.getMetadata(PATH_METADATA, handler) ?? ''));
        const full = GLOBAL_PREFIX_EXCLUDED.has(path) ? path : join('api', path);
        const policy = (Reflect.getMetadata(AUTH_POLICY, handler) as AuthPolicy | undefined) ?? classPolicy ?? null;
        routes.push({ method: RequestMethod[method], path: full, policy });
      }
    }
  }
  return routes.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

export function describePolicy(policy: AuthPolicy | null): string {
  if (!policy) return 'NONE';
  return policy.kind === 'event' ? `roles: ${[...policy.roles].join(', ')}` : policy.kind;
}
