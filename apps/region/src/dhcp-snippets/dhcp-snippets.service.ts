import { Injectable } from '@nestjs/common';
import { invalid, notFound } from '../common/domain.error';
import { parseBool } from '../common/values';
import { DhcpConfigBuilder } from '../networking/dhcp-config.builder';
import { DhcpConfigPublisher } from '../networking/dhcp-config.publisher';
import { parseDhcpSnippet } from './dhcp-snippet.parser';
import type { EntityManager } from 'typeorm';
import { DhcpSnippetFields, DhcpSnippetRow, DhcpSnippetsRepository } from './dhcp-snippets.repository';

/** What an administrator sent: only the fields present. */
export interface DhcpSnippetInput {
  name?: string;
  value?: string;
  description?: string;
  enabled?: string;
  node?: string;
  subnet?: string;
  iprange?: string;
  global_snippet?: string;
}

/**
 * DHCP snippets, global or for one subnet or one node. Only snippets made of options Kiln's DHCP
 * server can send are accepted (see `dhcp-snippet.parser.ts`). Enabled global and subnet snippets
 * go into the DHCP configuration the racks serve (`networking/dhcp-config.builder.ts`); snippets
 * for one node are refused (the racks take no per-host options yet).
 */
@Injectable()
export class DhcpSnippetsService {
  constructor(
    private readonly repo: DhcpSnippetsRepository,
    private readonly dhcp: DhcpConfigBuilder,
    private readonly publisher: DhcpConfigPublisher,
  ) {}

  /**
   * A change to the snippets, tracked as a networking change is: the DHCP configuration of every
   * VLAN served before and after, the difference pushed to the racks once committed.
   */
  private async change<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    const out = await this.repo.transaction(async (em) => this.dhcp.track(em, await this.dhcp.servedVlans(em), () => fn(em)));
    this.publisher.push(out.updates);
    return out.result;
  }

  list(): Promise<DhcpSnippetRow[]> {
    return this.repo.list();
  }

  async get(id: number): Promise<DhcpSnippetRow> {
    const s = Number.isInteger(id) ? await this.repo.find(id) : null;
    if (!s) throw notFound('No DHCPSnippet matches the given query.');
    return s;
  }

  async create(input: DhcpSnippetInput): Promise<DhcpSnippetRow> {
    const f = await this.validate(input, { name: '', description: '', value: '', enabled: true, nodeId: null, subnetId: null });
    return this.get(await this.change((em) => this.repo.insert(em, f)));
  }

  async update(id: number, input: DhcpSnippetInput): Promise<DhcpSnippetRow> {
    const current = await this.get(id);
    const f = await this.validate(input, current);
    await this.change((em) => this.repo.update(em, id, f));
    return this.get(id);
  }

  async delete(id: number): Promise<void> {
    const s = await this.get(id);
    await this.change((em) => this.repo.delete(em, s.id));
  }

  private async validate(input: DhcpSnippetInput, base: DhcpSnippetFields): Promise<DhcpSnippetFields> {
    const errors: Record<string, string[]> = {};
    const f: DhcpSnippetFields = { name: base.name, description: base.description, value: base.value, enabled: base.enabled, nodeId: base.nodeId, subnetId: base.subnetId };
    if (input.name !== undefined) f.name = input.name.trim();
    if (!f.name) errors.name = ['This field is required.'];
    if (input.description !== undefined) f.description = input.description;
    if (input.value !== undefined) f.value = input.value;
    if (!f.value.trim()) errors.value = ['This field is required.'];
    else {
      const parsed = parseDhcpSnippet(f.value);
      if (!parsed.ok) errors.value = [parsed.error];
    }
    if (input.enabled !== undefined) {
      const b = parseBool(input.enabled);
      if (b === undefined) errors.enabled = [`'${input.enabled}' value must be either True or False.`];
      else f.enabled = b;
    }
    if (input.iprange) errors.iprange = ['Kiln does not scope DHCP snippets to an IP range; scope it to its subnet instead.'];
    const global = input.global_snippet === undefined ? undefined : parseBool(input.global_snippet);
    if (input.global_snippet !== undefined && global === undefined) errors.global_snippet = [`'${input.global_snippet}' value must be either True or False.`];
    if (global) {
      f.nodeId = null;
      f.subnetId = null;
    }
    if (input.node !== undefined && input.node !== '') {
      const id = await this.repo.findNode(input.node);
      if (id === null) errors.node = [`Select a valid choice. ${input.node} is not one of the available choices.`];
      // Refused rather than stored unapplied: the racks take no per-host options yet.
      else errors.node = ["Kiln's DHCP server does not apply per-node options yet: scope the snippet to the node's subnet, or make it global."];
    }
    if (input.subnet !== undefined && input.subnet !== '') {
      const id = await this.repo.findSubnet(input.subnet);
      if (id === null) errors.subnet = [`Select a valid choice. ${input.subnet} is not one of the available choices.`];
      else f.subnetId = id;
    }
    if (global && (input.node || input.subnet)) errors.global_snippet = ['A global DHCP snippet cannot be for a node or a subnet.'];
    else if (f.nodeId !== null && f.subnetId !== null) errors.__all__ = ['A DHCP snippet cannot be for both a subnet and a node.'];
    if (Object.keys(errors).length) throw invalid(errors);
    return f;
  }
}
